//! gdlm-sim: a deterministic GFS2/DLM cluster simulator that drives `gdlm-core`.
//!
//! One thread, one seeded PRNG, a virtual clock: the same seed and options give the same
//! trace. [`dlm`] models the kernel DLM; [`node`] binds each simulated GFS2 node to the
//! core; [`sim`] schedules events, injects faults and checks the invariants.
#![forbid(unsafe_code)]

pub mod busy;
pub mod cpg;
pub mod dlm;
pub mod exhaustive;
pub mod explore;
pub mod fingerprint;
pub mod glock;
pub mod grant_times;
pub mod import;
pub(crate) mod invariants;

pub mod node;
pub(crate) mod runnable;
pub mod schedule;
pub mod shrink;
pub mod sim;
pub mod timeline;
pub mod trace;
