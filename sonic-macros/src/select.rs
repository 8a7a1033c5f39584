//! `select!`: parse tokio's branch syntax and generate one `poll_fn` that polls the branches in
//! place.
//!
//! Rules of the generated code:
//! - Preconditions are evaluated first, in order; then every future expression, in order (a
//!   disabled branch's future is still created, never polled).
//! - Each future is pinned on the stack with `core::pin::pin!` (no allocation, no `unsafe`).
//! - A poll visits the branches from a start index (0 with `biased;`, otherwise drawn from
//!   sonic-rt's thread-local xorshift) and returns the first output whose pattern matches; a
//!   branch whose future completed is disabled, and if its pattern did not match the loop goes
//!   on with the others.
//! - The futures are dropped before the handler runs, so a handler may use what they borrowed.
//! - When every branch is disabled the `else` expression runs (a panic without one).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Pat, Token};

struct Branch {
    pat: Pat,
    fut: Expr,
    cond: Option<Expr>,
    handler: TokenStream,
}

struct Select {
    krate: TokenStream,
    biased: bool,
    branches: Vec<Branch>,
    else_handler: Option<TokenStream>,
}

/// `=> handler`: a block (comma optional) or an expression followed by a comma or the end.
fn parse_handler(input: ParseStream<'_>) -> syn::Result<TokenStream> {
    if input.peek(syn::token::Brace) {
        let block: Block = input.parse()?;
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        return Ok(quote!(#block));
    }
    let expr: Expr = input.parse()?;
    if !input.is_empty() {
        input.parse::<Token![,]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `,` after this handler (only a `{ block }` handler may omit it)",
            )
        })?;
    }
    Ok(quote!(#expr))
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate = match input.parse::<TokenTree>()? {
            TokenTree::Group(g) => g.stream(),
            other => return Err(syn::Error::new(other.span(), "use sonic_rt::select!")),
        };
        let mut biased = false;
        if input.peek(syn::Ident) && input.peek2(Token![;]) {
            let id: syn::Ident = input.parse()?;
            if id != "biased" {
                return Err(syn::Error::new(id.span(), "expected `biased;` or a branch"));
            }
            input.parse::<Token![;]>()?;
            biased = true;
        }
        let mut branches = Vec::new();
        let mut else_handler = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let kw: Token![else] = input.parse()?;
                if else_handler.is_some() {
                    return Err(syn::Error::new(kw.span, "select! takes one `else` branch"));
                }
                input.parse::<Token![=>]>()?;
                else_handler = Some(parse_handler(input)?);
                continue;
            }
            let pat = Pat::parse_multi_with_leading_vert(input)?;
            input.parse::<Token![=]>()?;
            let fut: Expr = input.parse()?;
            let cond = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            input.parse::<Token![=>]>()?;
            let handler = parse_handler(input)?;
            branches.push(Branch {
                pat,
                fut,
                cond,
                handler,
            });
        }
        if branches.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "select! needs at least one `pattern = future => handler` branch",
            ));
        }
        if branches.len() > 64 {
            return Err(syn::Error::new(
                Span::call_site(),
                "select! takes at most 64 branches",
            ));
        }
        Ok(Select {
            krate,
            biased,
            branches,
            else_handler,
        })
    }
}

/// Turns a pattern into one that can test a value through a shared reference: `ref` and `mut`
/// binding modes are dropped (the bindings of the test are never used).
struct CleanPattern;

impl VisitMut for CleanPattern {
    fn visit_pat_ident_mut(&mut self, i: &mut syn::PatIdent) {
        i.by_ref = None;
        i.mutability = None;
        syn::visit_mut::visit_pat_ident_mut(self, i);
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Select>(input) {
        Ok(s) => generate(s),
        Err(e) => e.to_compile_error(),
    }
}

fn generate(s: Select) -> TokenStream {
    let site = Span::mixed_site();
    let krate = &s.krate;
    let n = s.branches.len();
    let out_ty = format_ident!("__SelectOut", span = site);
    let disabled = format_ident!("disabled", span = site);
    let cx = format_ident!("cx", span = site);
    let pending = format_ident!("pending", span = site);
    let value = format_ident!("value", span = site);
    let out = format_ident!("out", span = site);
    let idx = format_ident!("i", span = site);
    let start = format_ident!("start", span = site);
    let branch = format_ident!("branch", span = site);

    let tys: Vec<_> = (0..n)
        .map(|i| format_ident!("T{}", i, span = site))
        .collect();
    let variants: Vec<_> = (0..n)
        .map(|i| format_ident!("_{}", i, span = site))
        .collect();
    let futs: Vec<_> = (0..n)
        .map(|i| format_ident!("fut{}", i, span = site))
        .collect();

    let conds = s.branches.iter().enumerate().filter_map(|(i, b)| {
        let c = b.cond.as_ref()?;
        let bit = 1u64 << i;
        Some(quote!(if !(#c) { #disabled |= #bit; }))
    });
    let fut_inits = s.branches.iter().zip(&futs).map(|(b, f)| {
        let e = &b.fut;
        quote! {
            let mut #f = ::core::pin::pin!(::core::future::IntoFuture::into_future(#e));
        }
    });
    let arms = s.branches.iter().enumerate().map(|(i, b)| {
        let bit = 1u64 << i;
        let f = &futs[i];
        let v = &variants[i];
        let mut test = b.pat.clone();
        CleanPattern.visit_pat_mut(&mut test);
        let i = i as u32;
        quote! {
            #i => {
                if #disabled & #bit != 0 {
                    continue;
                }
                let #value = match ::core::future::Future::poll(#f.as_mut(), #cx) {
                    ::core::task::Poll::Ready(v) => v,
                    ::core::task::Poll::Pending => {
                        #pending = true;
                        continue;
                    }
                };
                #disabled |= #bit;
                match &#value {
                    #[allow(unused_variables)]
                    #test => {}
                    #[allow(unreachable_patterns)]
                    _ => continue,
                }
                return ::core::task::Poll::Ready(#out_ty::#v(#value));
            }
        }
    });
    let handlers = s.branches.iter().zip(&variants).map(|(b, v)| {
        let pat = &b.pat;
        let h = &b.handler;
        quote!(#out_ty::#v(#pat) => #h,)
    });
    let else_arm = match &s.else_handler {
        Some(h) => quote!(#out_ty::Disabled => #h,),
        None => quote! {
            #out_ty::Disabled => ::core::panic!(
                "select!: all branches are disabled and there is no else branch"
            ),
        },
    };
    let n32 = n as u32;
    let start_expr = if s.biased || n == 1 {
        quote!(0u32)
    } else {
        quote!(#krate::__private::thread_rng_n(#n32))
    };

    quote! {{
        #[allow(non_camel_case_types)]
        enum #out_ty<#(#tys,)*> {
            #(#variants(#tys),)*
            Disabled,
        }
        let #out = {
            #[allow(unused_mut)]
            let mut #disabled: u64 = 0;
            #(#conds)*
            #(#fut_inits)*
            ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
                let #start: u32 = #start_expr;
                let mut #pending = false;
                for #idx in 0..#n32 {
                    // `start < n`, so one subtraction wraps the index (no division).
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
                    ::core::task::Poll::Ready(#out_ty::Disabled)
                }
            })
            .await
        };
        match #out {
            #(#handlers)*
            #else_arm
            #[allow(unreachable_patterns)]
            _ => ::core::unreachable!(),
        }
    }}
}
