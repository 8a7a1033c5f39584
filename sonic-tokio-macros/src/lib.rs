#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

//! # How the expansion works
//!
//! `#[tokio::main(opts)] async fn main() { .. }` becomes
//! `#[<tokio>::__private::sonic_main(crate = "<tokio>::__private::sonic_rt", opts)] async fn ..`,
//! where `<tokio>` is the path the user's crate reaches sonic-tokio by: tokio's `crate = ".."`
//! option if given, else the name found in the user's Cargo.toml. sonic-rt's own `#[main]`
//! then does the work (one code generator for both crates); this crate only finds the path and
//! turns tokio's options into sonic's, with tokio-worded errors for what a single-thread
//! runtime cannot do.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Path, Token};

/// tokio's `#[tokio::main]` on a sonic runtime. See `sonic_tokio::main`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand("main", args.into(), item.into()).into()
}

/// tokio's `#[tokio::test]` on a sonic runtime. See `sonic_tokio::test`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand("test", args.into(), item.into()).into()
}

const SINGLE: &str = "sonic-tokio runs one thread per runtime: use \
                      `flavor = \"current_thread\"` (or no flavor), and one runtime per core to \
                      scale out";

fn expand(which: &str, args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    match rewrite(args) {
        Ok((krate, forwarded)) => {
            let attr = syn::Ident::new(&format!("sonic_{which}"), Span::call_site());
            let sonic_rt = LitStr::new(
                &format!("{}::__private::sonic_rt", path_string(&krate)),
                Span::call_site(),
            );
            quote! {
                #[#krate::__private::#attr(crate = #sonic_rt #(, #forwarded)*)]
                #item
            }
        }
        Err(e) => {
            // Our error only; the item is kept so that uses of it do not add errors.
            let mut out = e.to_compile_error();
            out.extend(stub(item));
            out
        }
    }
}

/// The function with its `async` and body removed, so that a refused option is the only error
/// (no "`main` function is not allowed to be `async`").
fn stub(item: TokenStream2) -> TokenStream2 {
    match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(mut f) => {
            f.sig.asyncness = None;
            *f.block = syn::parse_quote!({ ::core::panic!() });
            f.attrs.retain(|a| !a.path().is_ident("test"));
            f.into_token_stream()
        }
        Err(_) => item,
    }
}

fn path_string(p: &Path) -> String {
    let mut s = String::new();
    if p.leading_colon.is_some() {
        s.push_str("::");
    }
    let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
    s.push_str(&segs.join("::"));
    s
}

/// Splits tokio's options into the crate path and the options handed on to sonic-rt's macro.
fn rewrite(args: TokenStream2) -> syn::Result<(Path, Vec<Meta>)> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut krate: Option<Path> = None;
    let mut forwarded = Vec::new();
    for meta in metas {
        let name = meta
            .path()
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match name.as_str() {
            "crate" => {
                let s = string_value(&meta, "crate = \"tokio\"")?;
                krate = Some(s.parse::<Path>()?);
            }
            "flavor" => {
                let s = string_value(&meta, "flavor = \"current_thread\"")?;
                match s.value().as_str() {
                    "current_thread" => {}
                    "multi_thread" => {
                        return Err(syn::Error::new(
                            s.span(),
                            format!("`flavor = \"multi_thread\"` is not available: {SINGLE}"),
                        ))
                    }
                    "local" => {
                        return Err(syn::Error::new(
                            s.span(),
                            "`flavor = \"local\"` (tokio's unstable LocalRuntime) is not \
                             available: use `flavor = \"current_thread\"`; every sonic task may \
                             be `!Send` already",
                        ))
                    }
                    other => {
                        return Err(syn::Error::new(
                            s.span(),
                            format!("unknown flavor `{other}`: {SINGLE}"),
                        ))
                    }
                }
            }
            "worker_threads" => {
                return Err(syn::Error::new_spanned(
                    meta.path(),
                    format!("`worker_threads` is not available: {SINGLE}"),
                ))
            }
            "unhandled_panic" | "rng_seed" => {
                return Err(syn::Error::new_spanned(
                    meta.path(),
                    format!("`{name}` (a tokio_unstable option) is not available on sonic-tokio"),
                ))
            }
            _ => forwarded.push(meta),
        }
    }
    let krate = match krate {
        Some(k) => k,
        None => found_crate()?,
    };
    Ok((krate, forwarded))
}

fn string_value(meta: &Meta, example: &str) -> syn::Result<LitStr> {
    if let Meta::NameValue(nv) = meta {
        if let Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) = &nv.value
        {
            return Ok(s.clone());
        }
    }
    Err(syn::Error::new_spanned(
        meta,
        format!("expected a string: `{example}`"),
    ))
}

/// The path the crate being compiled reaches sonic-tokio by (`::tokio` after
/// `tokio = { package = "sonic-tokio" }`).
fn found_crate() -> syn::Result<Path> {
    use proc_macro_crate::{crate_name, FoundCrate};
    let name = match crate_name("sonic-tokio") {
        // sonic-tokio's own tests, examples and doc tests reach it by its library name.
        Ok(FoundCrate::Itself) => "sonic_tokio".to_string(),
        Ok(FoundCrate::Name(name)) => name,
        Err(e) => {
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "cannot find sonic-tokio in Cargo.toml ({e}); name it with \
                     `crate = \"tokio\"`"
                ),
            ))
        }
    };
    let ident = syn::Ident::new(&name, Span::call_site());
    Ok(syn::parse_quote!(::#ident))
}
