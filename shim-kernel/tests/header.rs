//! `include/gdlm_kernel.h` is generated from `src/lib.rs` by cbindgen (`cbindgen.toml`):
//! this test regenerates it and fails when the committed header differs, so the C glue
//! always compiles against the signatures the Rust object exports.
//! `GDLM_BLESS=1 cargo test -p gdlm-kernel --test header` rewrites the header.

use std::path::Path;

#[test]
fn committed_header_is_the_generated_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen parses src/lib.rs")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");
    let path = dir.join("include/gdlm_kernel.h");
    if std::env::var_os("GDLM_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write the header");
    }
    let committed = std::fs::read_to_string(&path).expect("read the committed header");
    if let Some((n, (c, g))) = committed
        .lines()
        .zip(generated.lines())
        .enumerate()
        .find(|(_, (c, g))| c != g)
    {
        panic!(
            "include/gdlm_kernel.h differs from what cbindgen generates from src/lib.rs at \
             line {}:\n  committed: {c}\n  generated: {g}\n\
             run GDLM_BLESS=1 cargo test -p gdlm-kernel --test header and fix the C glue",
            n + 1
        );
    }
    assert_eq!(
        committed.lines().count(),
        generated.lines().count(),
        "include/gdlm_kernel.h has a different length than the generated header \
         (GDLM_BLESS=1 cargo test -p gdlm-kernel --test header)"
    );

    // Every exported function is declared (cbindgen skips what it cannot translate).
    let src = std::fs::read_to_string(dir.join("src/lib.rs")).expect("read src/lib.rs");
    let exported: Vec<&str> = src
        .lines()
        .filter_map(|l| l.split_once("extern \"C\" fn gdlm_k_"))
        .filter(|(pre, _)| pre.starts_with("pub "))
        .map(|(_, rest)| rest.split('(').next().unwrap_or(rest))
        .collect();
    assert!(
        exported.len() >= 14,
        "found only {} exports",
        exported.len()
    );
    for f in exported {
        assert!(
            generated.contains(&format!(" gdlm_k_{f}(")),
            "gdlm_k_{f} is exported but not declared in the generated header"
        );
    }
}
