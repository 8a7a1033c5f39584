//! `#[main]` and `#[test]`: parse the options, check the function, wrap its body in `block_on`.
//!
//! The user's function becomes an inner `async fn` with the same signature and body, so `?`,
//! `return` and the return type behave exactly as written; the outer function builds the
//! runtime and blocks on it.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, LitBool, LitInt, LitStr, Path};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[sonic_rt::main]",
            Kind::Test => "#[sonic_rt::test]",
        }
    }
}

const OPTIONS: &str = "`busy_poll`, `pin_to_core = N`, `start_paused`, `event_interval = N`, \
                       `event_capacity = N`, `task_budget = N`, `spin_before_park_us = N`, \
                       `name = \"...\"`, `crate = \"path\"`";

#[derive(Default)]
struct Options {
    busy_poll: Option<bool>,
    start_paused: Option<bool>,
    pin_to_core: Option<usize>,
    event_interval: Option<usize>,
    event_capacity: Option<usize>,
    task_budget: Option<u32>,
    spin_before_park_us: Option<u64>,
    name: Option<LitStr>,
    krate: Option<Path>,
}

/// Sets `slot` once; a second occurrence is an error at `span`.
fn set_once<T>(slot: &mut Option<T>, value: T, name: &str, span: Span) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(span, format!("`{name}` is given twice")));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_options(args: TokenStream) -> syn::Result<Options> {
    let mut o = Options::default();
    let parser = syn::meta::parser(|meta| {
        let span = meta.path.span();
        let name = match meta.path.get_ident() {
            Some(id) => id.to_string(),
            None => return Err(meta.error(format!("unknown option; expected one of {OPTIONS}"))),
        };
        // A flag alone means `true`; `flag = false` is allowed too.
        let flag = |meta: &syn::meta::ParseNestedMeta<'_>| -> syn::Result<bool> {
            if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
                return Ok(true);
            }
            let lit: LitBool = meta.value()?.parse().map_err(|e| {
                syn::Error::new(e.span(), format!("`{name}` takes `true` or `false`"))
            })?;
            Ok(lit.value)
        };
        let int = |meta: &syn::meta::ParseNestedMeta<'_>, what: &str| -> syn::Result<LitInt> {
            if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
                return Err(syn::Error::new(
                    span,
                    format!("`{name}` needs a value: `{name} = {what}`"),
                ));
            }
            meta.value()?.parse::<LitInt>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("`{name}` takes an integer: `{name} = {what}`"),
                )
            })
        };
        match name.as_str() {
            "busy_poll" => set_once(&mut o.busy_poll, flag(&meta)?, &name, span),
            "start_paused" => set_once(&mut o.start_paused, flag(&meta)?, &name, span),
            "pin_to_core" => {
                let v = int(&meta, "0")?.base10_parse()?;
                set_once(&mut o.pin_to_core, v, &name, span)
            }
            "event_interval" | "event_capacity" => {
                let lit = int(&meta, "61")?;
                let v: usize = lit.base10_parse()?;
                if v == 0 {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("`{name}` must be at least 1"),
                    ));
                }
                let slot = if name == "event_interval" {
                    &mut o.event_interval
                } else {
                    &mut o.event_capacity
                };
                set_once(slot, v, &name, span)
            }
            "task_budget" => {
                let lit = int(&meta, "128")?;
                let v: u32 = lit.base10_parse()?;
                if v == 0 {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`task_budget` must be at least 1",
                    ));
                }
                set_once(&mut o.task_budget, v, &name, span)
            }
            "spin_before_park_us" => {
                let v = int(&meta, "50")?.base10_parse()?;
                set_once(&mut o.spin_before_park_us, v, &name, span)
            }
            "name" => {
                let s: LitStr = meta.value()?.parse()?;
                set_once(&mut o.name, s, &name, span)
            }
            "crate" => {
                let s: LitStr = meta.value()?.parse()?;
                set_once(&mut o.krate, s.parse::<Path>()?, &name, span)
            }
            "flavor" => {
                let s: LitStr = meta.value()?.parse()?;
                if s.value() == "current_thread" {
                    Ok(())
                } else {
                    Err(syn::Error::new(
                        s.span(),
                        "a sonic runtime is one thread: only `flavor = \"current_thread\"` is \
                         accepted (run one runtime per core to scale out)",
                    ))
                }
            }
            "worker_threads" => {
                Err(meta
                    .error("a sonic runtime is one thread: `worker_threads` has no meaning here"))
            }
            _ => Err(meta.error(format!(
                "unknown option `{name}`; expected one of {OPTIONS}"
            ))),
        }
    });
    parser.parse2(args)?;
    Ok(o)
}

pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new_spanned(
                &item,
                format!("{} goes on an `async fn`, not on this item", kind.name()),
            );
            let mut out = err.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    match build(kind, args, &func) {
        Ok(out) => out,
        // Keep a plain, argument-less stand-in of the function so that ours is the only
        // error (no "`main` function not found", no "`main` cannot be async").
        Err(e) => {
            let mut out = e.to_compile_error();
            let mut stub = func;
            stub.sig.asyncness = None;
            stub.sig.inputs.clear();
            stub.sig.generics = syn::Generics::default();
            stub.attrs.retain(|a| !a.path().is_ident("test"));
            *stub.block = syn::parse_quote!({ ::core::panic!() });
            stub.to_tokens(&mut out);
            out
        }
    }
}

fn build(kind: Kind, args: TokenStream, func: &ItemFn) -> syn::Result<TokenStream> {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!(
                "{}: the `async` keyword is missing from the function declaration",
                kind.name()
            ),
        ));
    }
    // `#[main]` on any other function (a method, a helper) may take arguments, `self` included,
    // as tokio's does: its body then runs as an async block that captures them.
    let with_inputs = kind == Kind::Main && sig.ident != "main";
    if !sig.inputs.is_empty() && !with_inputs {
        let what = match kind {
            Kind::Main => "the main function cannot take arguments",
            Kind::Test => "a test function cannot take arguments",
        };
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("{}: {what}", kind.name()),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("{}: the function cannot be generic", kind.name()),
        ));
    }
    if kind == Kind::Test {
        if let Some(attr) = func.attrs.iter().find(|a| a.path().is_ident("test")) {
            return Err(syn::Error::new(
                attr.span(),
                "#[sonic_rt::test] already makes this a test: remove the second #[test]",
            ));
        }
    }
    let o = parse_options(args)?;

    let krate = match &o.krate {
        Some(p) => p.to_token_stream(),
        None => quote!(::sonic_rt),
    };
    let site = Span::mixed_site();
    let b = Ident::new("builder", site);
    let rt = Ident::new("rt", site);
    let body_fn = Ident::new("__sonic_body", site);
    let mut calls = TokenStream::new();
    if let Some(v) = o.busy_poll {
        calls.extend(quote!(#b.busy_poll(#v);));
    }
    if let Some(v) = o.start_paused {
        calls.extend(quote!(#b.start_paused(#v);));
    }
    if let Some(v) = o.pin_to_core {
        calls.extend(quote!(#b.pin_to_core(#v);));
    }
    if let Some(v) = o.event_interval {
        calls.extend(quote!(#b.event_interval(#v);));
    }
    if let Some(v) = o.event_capacity {
        calls.extend(quote!(#b.event_capacity(#v);));
    }
    if let Some(v) = o.task_budget {
        calls.extend(quote!(#b.task_budget(#v);));
    }
    if let Some(v) = &o.name {
        calls.extend(quote!(#b.name(#v);));
    }
    if let Some(v) = o.spin_before_park_us {
        calls.extend(quote!(#b.spin_before_park(::core::time::Duration::from_micros(#v));));
    }

    let attrs = &func.attrs;
    let vis = &func.vis;
    let ident = &sig.ident;
    let output = &sig.output;
    let block = &func.block;
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => TokenStream::new(),
    };
    let what = kind.name();
    let last = block.brace_token.span.close();
    if !sig.inputs.is_empty() {
        // The arguments are moved into an async block; its type is written out (a pinned
        // `dyn Future` of the declared output) so that `?` in the body converts as it would
        // in the function.
        let inputs = &sig.inputs;
        let ret = match output {
            syn::ReturnType::Default => quote!(()),
            syn::ReturnType::Type(_, ty) => quote!(#ty),
        };
        return Ok(quote_spanned! {last=>
            #(#attrs)*
            #vis fn #ident(#inputs) #output {
                let #body_fn: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #ret>> =
                    ::core::pin::pin!(async move #block);
                let mut #b = #krate::Builder::new();
                #calls
                let #rt = match #b.build() {
                    ::core::result::Result::Ok(rt) => rt,
                    ::core::result::Result::Err(e) => {
                        ::core::panic!("{}: cannot build the runtime: {}", #what, e)
                    }
                };
                #rt.block_on(#body_fn)
            }
        });
    }
    Ok(quote_spanned! {last=>
        #test_attr
        #(#attrs)*
        #vis fn #ident() #output {
            async fn #body_fn() #output #block
            let mut #b = #krate::Builder::new();
            #calls
            let #rt = match #b.build() {
                ::core::result::Result::Ok(rt) => rt,
                ::core::result::Result::Err(e) => {
                    ::core::panic!("{}: cannot build the runtime: {}", #what, e)
                }
            };
            #rt.block_on(#body_fn())
        }
    })
}
