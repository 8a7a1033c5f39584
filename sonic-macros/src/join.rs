//! `join!` and `try_join!`: poll every future in place until all are done (or, for `try_join!`,
//! one fails).
//!
//! Rules of the generated code:
//! - The futures are created in order, each wrapped in sonic-rt's `MaybeDone` (the future, then
//!   its output in the same place), and kept in one tuple that the `poll_fn` closure owns: a
//!   branch costs its `MaybeDone` and nothing more.
//! - A finished branch is never polled again. Each poll starts one branch further than the
//!   last, so a future that is always ready cannot use up the task's budget before the others
//!   run; with `biased;` every poll goes in the written order.
//! - `try_join!` returns the first `Err` at once; the other futures are dropped with the
//!   closure.
//! - The tuple is reached through one `unsafe` pin projection per branch, argued at the site.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

struct Join {
    krate: TokenStream,
    biased: bool,
    futs: Vec<Expr>,
}

impl Parse for Join {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate = match input.parse::<TokenTree>()? {
            TokenTree::Group(g) => g.stream(),
            other => return Err(syn::Error::new(other.span(), "use sonic_rt::join!")),
        };
        let biased = if input.peek(syn::Ident) && input.peek2(Token![;]) {
            let id: syn::Ident = input.parse()?;
            if id != "biased" {
                return Err(syn::Error::new(id.span(), "expected `biased;` or a future"));
            }
            input.parse::<Token![;]>()?;
            true
        } else {
            false
        };
        let futs = Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        Ok(Join {
            krate,
            biased,
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
    let krate = &join.krate;
    let state = format_ident!("state", span = site);
    let cx = format_ident!("cx", span = site);
    let pending = format_ident!("pending", span = site);
    let idx = format_ident!("i", span = site);
    let start = format_ident!("start", span = site);
    let branch = format_ident!("branch", span = site);
    let fut = format_ident!("fut", span = site);
    let n32 = n as u32;
    let fields: Vec<_> = (0..n).map(syn::Index::from).collect();
    // The rotation counter sits after the futures in the state tuple (absent when biased or
    // with one future).
    let next = syn::Index::from(n);

    let futs = &join.futs;
    let rotates = !join.biased && n > 1;
    let rotation_init = if rotates { quote!(0u32,) } else { quote!() };
    let pick_start = if !rotates {
        quote!(let #start: u32 = 0;)
    } else {
        quote! {
            let #start: u32 = #state.#next;
            #state.#next = if #start + 1 == #n32 { 0 } else { #start + 1 };
        }
    };
    // SAFETY (of every `Pin::new_unchecked` below): the futures live in the state tuple that the
    // closure owns, and the closure lives in the `poll_fn` future, which is awaited where it is
    // created: `.await` pins it, so no branch moves between its first poll and its drop, and
    // nothing else can name the tuple (a hygienic local).
    let pin_field = |field: &syn::Index| {
        quote! {
            unsafe { ::core::pin::Pin::new_unchecked(&mut #state.#field) }
        }
    };
    let arms = fields.iter().enumerate().map(|(i, field)| {
        let i = i as u32;
        let pinned = pin_field(field);
        let poll = if is_try {
            quote! {
                match #fut.poll_ok(#cx) {
                    ::core::task::Poll::Ready(::core::result::Result::Ok(())) => {}
                    ::core::task::Poll::Ready(::core::result::Result::Err(e)) => {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(e));
                    }
                    ::core::task::Poll::Pending => #pending = true,
                }
            }
        } else {
            quote! {
                if #fut.poll_done(#cx).is_pending() {
                    #pending = true;
                }
            }
        };
        quote! {
            #i => {
                let #fut: ::core::pin::Pin<&mut #krate::__private::MaybeDone<_>> = #pinned;
                #poll
            }
        }
    });
    let takes = fields.iter().map(|field| {
        let pinned = pin_field(field);
        let take = quote!(#krate::__private::MaybeDone::take_output(#pinned));
        if is_try {
            quote!(match #take {
                ::core::option::Option::Some(::core::result::Result::Ok(v)) => v,
                _ => ::core::unreachable!(),
            })
        } else {
            quote!(match #take {
                ::core::option::Option::Some(v) => v,
                ::core::option::Option::None => ::core::unreachable!(),
            })
        }
    });
    let ready = if is_try {
        quote!(::core::result::Result::Ok((#(#takes,)*)))
    } else {
        quote!((#(#takes,)*))
    };
    quote! {{
        let mut #state = (#(#krate::__private::maybe_done(#futs),)* #rotation_init);
        ::core::future::poll_fn(move |#cx: &mut ::core::task::Context<'_>| {
            let #state = &mut #state;
            #pick_start
            let mut #pending = false;
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
            if #pending {
                ::core::task::Poll::Pending
            } else {
                ::core::task::Poll::Ready(#ready)
            }
        })
        .await
    }}
}
