//! `join!` and `try_join!`: poll every future in place until all are done (or, for `try_join!`,
//! one fails).
//!
//! Each future is pinned on the stack with `core::pin::pin!` next to an `Option` for its output;
//! a finished future is never polled again. Each poll starts one branch further than the last,
//! so a future that is always ready cannot use up the task's budget before the others run.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

struct Join {
    futs: Vec<Expr>,
}

impl Parse for Join {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // The sonic-rt path (unused: the generated code needs only `core`).
        match input.parse::<TokenTree>()? {
            TokenTree::Group(_) => {}
            other => return Err(syn::Error::new(other.span(), "use sonic_rt::join!")),
        }
        let futs = Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        Ok(Join {
            futs: futs.into_iter().collect(),
        })
    }
}

pub(crate) fn expand(input: TokenStream, is_try: bool) -> TokenStream {
    let join = match syn::parse2::<Join>(input) {
        Ok(j) => j,
        Err(e) => return e.to_compile_error(),
    };
    let n = join.futs.len();
    if n == 0 {
        return if is_try {
            quote!(async { ::core::result::Result::Ok(()) }.await)
        } else {
            quote!(async {}.await)
        };
    }
    let site = Span::mixed_site();
    let futs: Vec<_> = (0..n)
        .map(|i| format_ident!("fut{}", i, span = site))
        .collect();
    let outs: Vec<_> = (0..n)
        .map(|i| format_ident!("out{}", i, span = site))
        .collect();
    let cx = format_ident!("cx", span = site);
    let next = format_ident!("next", span = site);
    let done = format_ident!("done", span = site);
    let idx = format_ident!("i", span = site);
    let start = format_ident!("start", span = site);
    let branch = format_ident!("branch", span = site);
    let n32 = n as u32;

    let inits = join.futs.iter().zip(&futs).zip(&outs).map(|((e, f), o)| {
        quote! {
            let mut #f = ::core::pin::pin!(::core::future::IntoFuture::into_future(#e));
            let mut #o = ::core::option::Option::None;
        }
    });
    let arms = futs.iter().zip(&outs).enumerate().map(|(i, (f, o))| {
        let i = i as u32;
        let on_ready = if is_try {
            quote! {
                ::core::task::Poll::Ready(::core::result::Result::Ok(v)) => #o = ::core::option::Option::Some(v),
                ::core::task::Poll::Ready(::core::result::Result::Err(e)) => {
                    return ::core::task::Poll::Ready(::core::result::Result::Err(e));
                }
            }
        } else {
            quote!(::core::task::Poll::Ready(v) => #o = ::core::option::Option::Some(v),)
        };
        quote! {
            #i => {
                if #o.is_none() {
                    match ::core::future::Future::poll(#f.as_mut(), #cx) {
                        #on_ready
                        ::core::task::Poll::Pending => #done = false,
                    }
                }
            }
        }
    });
    let takes = outs.iter().map(|o| {
        quote!(match #o.take() {
            ::core::option::Option::Some(v) => v,
            ::core::option::Option::None => ::core::unreachable!(),
        })
    });
    let ready = if is_try {
        quote!(::core::result::Result::Ok((#(#takes,)*)))
    } else {
        quote!((#(#takes,)*))
    };
    quote! {{
        #(#inits)*
        let mut #next: u32 = 0;
        ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
            let mut #done = true;
            let #start = #next;
            #next = if #next + 1 == #n32 { 0 } else { #next + 1 };
            for #idx in 0..#n32 {
                let mut #branch = #start + #idx;
                if #branch >= #n32 {
                    #branch -= #n32;
                }
                match #branch {
                    #(#arms)*
                    _ => ::core::unreachable!(),
                }
            }
            if #done {
                ::core::task::Poll::Ready(#ready)
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }}
}
