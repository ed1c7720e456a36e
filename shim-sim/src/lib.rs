//! gdlm-sim: a deterministic GFS2/DLM cluster simulator (work in progress).
#![forbid(unsafe_code)]
pub mod dlm;
