// SPDX-License-Identifier: GPL-2.0-only
//! Finds libdlm with pkg-config (Debian: `apt-get install libdlm-dev`).
//!
//! The crate links libdlm's plain library (not `libdlm_lt` and without its AST thread): ASTs
//! and BASTs are read from the lockspace fd by `dlm_dispatch` on the caller's thread.

fn main() {
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    match pkg_config::Config::new()
        .atleast_version("3")
        .probe("libdlm")
    {
        Ok(lib) => {
            for p in &lib.include_paths {
                println!("cargo:include={}", p.display());
            }
        }
        Err(e) => {
            eprintln!(
                "gdlm-linux needs libdlm (Debian/Ubuntu: `apt-get install libdlm-dev`; \
                 ci/realdlm/run installs it): {e}"
            );
            std::process::exit(1);
        }
    }
}
