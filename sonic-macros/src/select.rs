//! `select!`: parse tokio's branch syntax and generate one `poll_fn` that polls the branches in
//! place.
//!
//! Rules of the generated code (tokio's layout, which keeps the future small):
//! - Preconditions are evaluated first, in order, into a bit mask of disabled branches (the
//!   smallest unsigned integer with a bit per branch); then every future expression, in order,
//!   as the operands of one tuple in one `let`, so temporaries that Rust extends there
//!   (`&mut make_future()`) live as long as the futures. A disabled branch's future is still
//!   created, never polled.
//! - The futures (after `IntoFuture::into_future`) and the mask are moved into the `poll_fn`
//!   closure: a branch costs its future and nothing more. Each future is reached through one
//!   `unsafe` pin projection, argued at the site; lints do not fire inside an external macro's
//!   expansion, so the callers' `#![forbid(unsafe_code)]` still holds for their own code.
//! - A poll first checks the task's budget (`Pending`, the task rescheduled, when it is spent,
//!   as tokio does), then visits the branches from a start index (0 with `biased;`, otherwise
//!   drawn from sonic-rt's thread-local xorshift) and returns the first output whose pattern
//!   matches; a branch whose future completed is disabled, and if its pattern did not match the
//!   loop goes on with the others.
//! - The futures are dropped before the handler runs, so a handler may use what they borrowed.
//!   The output is matched from a `mut` binding, so `ref mut` patterns work.
//! - When every branch is disabled the `else` expression runs (a panic without one). With only
//!   `else`, the expansion is that expression.

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
        if branches.is_empty() && else_handler.is_none() {
            return Err(syn::Error::new(
                Span::call_site(),
                "select! needs at least one `pattern = future => handler` branch or an `else` branch",
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

/// The smallest unsigned integer with a bit per branch (tokio sizes its mask the same way).
fn mask_type(n: usize) -> (TokenStream, &'static str) {
    match n {
        0..=8 => (quote!(u8), "u8"),
        9..=16 => (quote!(u16), "u16"),
        17..=32 => (quote!(u32), "u32"),
        _ => (quote!(u64), "u64"),
    }
}

fn generate(s: Select) -> TokenStream {
    // Only `else`: nothing to wait for, the handler is the whole expansion (as in tokio).
    if s.branches.is_empty() {
        let h = s.else_handler.unwrap_or_default();
        return quote!({ #h });
    }
    let site = Span::mixed_site();
    let krate = &s.krate;
    let n = s.branches.len();
    let out_ty = format_ident!("__SelectOut", span = site);
    let disabled = format_ident!("disabled", span = site);
    let init = format_ident!("init", span = site);
    let state = format_ident!("state", span = site);
    let cx = format_ident!("cx", span = site);
    let pending = format_ident!("pending", span = site);
    let value = format_ident!("value", span = site);
    let out = format_ident!("out", span = site);
    let idx = format_ident!("i", span = site);
    let start = format_ident!("start", span = site);
    let branch = format_ident!("branch", span = site);
    let fut = format_ident!("fut", span = site);
    let (mask, suffix) = mask_type(n);
    let bit = |i: usize| syn::LitInt::new(&format!("{}{suffix}", 1u64 << i), Span::call_site());

    let tys: Vec<_> = (0..n)
        .map(|i| format_ident!("T{}", i, span = site))
        .collect();
    let variants: Vec<_> = (0..n)
        .map(|i| format_ident!("_{}", i, span = site))
        .collect();
    let fields: Vec<_> = (0..n).map(syn::Index::from).collect();

    let conds = s.branches.iter().enumerate().filter_map(|(i, b)| {
        let c = b.cond.as_ref()?;
        let bit = bit(i);
        Some(quote!(if !(#c) { #disabled |= #bit; }))
    });
    let fut_exprs = s.branches.iter().map(|b| &b.fut);
    let arms = s.branches.iter().enumerate().map(|(i, b)| {
        let bit = bit(i);
        let v = &variants[i];
        let field = &fields[i];
        let mut test = b.pat.clone();
        CleanPattern.visit_pat_mut(&mut test);
        let i = i as u32;
        quote! {
            #[allow(unreachable_code)]
            #i => {
                if #state.0 & #bit != 0 {
                    continue;
                }
                // SAFETY: the futures live in the state tuple that the closure owns, and the
                // closure lives in the `poll_fn` future, which is awaited where it is created:
                // `.await` pins it, so no future moves between its first poll and its drop,
                // and nothing else can name the tuple (a hygienic local).
                let #fut = unsafe {
                    ::core::pin::Pin::new_unchecked(&mut #state.1.#field)
                };
                let #value = match ::core::future::Future::poll(#fut, #cx) {
                    ::core::task::Poll::Ready(v) => v,
                    ::core::task::Poll::Pending => {
                        #pending = true;
                        continue;
                    }
                };
                #state.0 |= #bit;
                #[allow(unused_variables, unused_mut)]
                match &#value {
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
        #[allow(unused_mut)]
        let mut #disabled: #mask = 0;
        #(#conds)*
        // `mut` for `ref mut` bindings in the handlers' patterns.
        #[allow(unused_mut)]
        let mut #out = {
            // The expressions as written, in one `let`: temporaries that Rust extends to the end
            // of the block (`&mut make_future()`) live as long as the futures, as in tokio.
            let #init = (#(#fut_exprs,)*);
            // The mask and the futures, owned by the closure below: the only per-branch cost
            // is the future itself.
            let mut #state = (
                #disabled,
                (#(::core::future::IntoFuture::into_future(#init.#fields),)*),
            );
            ::core::future::poll_fn(move |#cx: &mut ::core::task::Context<'_>| {
                let #state = &mut #state;
                // Out of budget: yield before polling anything (as tokio's select! does), so a
                // loop whose branches are always ready still lets other tasks and timers run.
                if #krate::__private::poll_budget_available(#cx).is_pending() {
                    return ::core::task::Poll::Pending;
                }
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
