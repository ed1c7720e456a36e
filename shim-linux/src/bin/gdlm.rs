// SPDX-License-Identifier: GPL-2.0-only
//! `gdlm`: tools over a live DLM lockspace.
//!
//! ```text
//! gdlm inspect LOCKSPACE [--json]
//! ```
//! `inspect` reads the control_lock LVB (generation, jids needing recovery, the "mounts
//! disabled" marker) with a new NL request with VALBLK, which reads the LVB and conflicts with
//! nothing, and probes mounted_lock with an EX NOQUEUE request without NOQUEUEBAST, which is
//! refused while any node is mounted and sends the holders no BAST. It works on a lockspace
//! of gdlm's or on the one of a real GFS2 mount (`LOCKTABLE`'s fs name, e.g. `gfs1`): joining
//! an existing lockspace from userspace only takes a reference on it.

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use gdlm_core::consts::{GFS2_CONTROL_LOCK, GFS2_MOUNTED_LOCK};
use gdlm_core::{ControlLvb, DlmLkf, DlmMode, LockName};
use gdlm_linux::{sbf, Lockspace, Status};

const T: Duration = Duration::from_secs(20);

/// What `inspect` found.
struct Inspection {
    lockspace: String,
    lvb: ControlLvb,
    lvb_valid: bool,
    mounted: Option<bool>,
}

fn inspect(name: &str) -> io::Result<Inspection> {
    let mut ls = Lockspace::create(name)?;
    let control = LockName::nondisk(GFS2_CONTROL_LOCK).encode();
    let lk = ls.lock(control.as_bytes(), DlmMode::Nl, DlmLkf::VALBLK, None)?;
    let c = ls.wait_completion(lk, T)?;
    if c.status != Status::Granted {
        return Err(io::Error::other(format!(
            "control_lock NL request: {:?}",
            c.status
        )));
    }
    let lvb = ControlLvb::from_array(c.lvb.unwrap_or_default());
    let lvb_valid = c.sb_flags & sbf::VALNOTVALID == 0;
    ls.unlock(lk, DlmLkf::empty(), None)?;
    ls.wait_completion(lk, T)?;

    let mounted_name = LockName::nondisk(GFS2_MOUNTED_LOCK).encode();
    let lk = ls.lock(mounted_name.as_bytes(), DlmMode::Ex, DlmLkf::NOQUEUE, None)?;
    let c = ls.wait_completion(lk, T)?;
    let mounted = match c.status {
        Status::Again => Some(true),
        Status::Granted => {
            ls.unlock(lk, DlmLkf::empty(), None)?;
            ls.wait_completion(lk, T)?;
            Some(false)
        }
        _ => None,
    };
    ls.release(false)?;
    Ok(Inspection {
        lockspace: name.to_string(),
        lvb,
        lvb_valid,
        mounted,
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Inspection {
    fn jids(&self) -> Vec<u32> {
        self.lvb.jids().iter().collect()
    }

    fn json(&self) -> String {
        let jids: Vec<String> = self.jids().iter().map(u32::to_string).collect();
        format!(
            "{{\"lockspace\":\"{}\",\"generation\":{},\"disabled\":{},\"jids\":[{}],\"lvb_valid\":{},\"mounted\":{},\"lvb\":\"{}\"}}",
            self.lockspace.replace(['"', '\\'], "_"),
            self.lvb.generation(),
            self.lvb.is_disabled(),
            jids.join(","),
            self.lvb_valid,
            match self.mounted {
                Some(m) => m.to_string(),
                None => "null".into(),
            },
            hex(self.lvb.as_bytes())
        )
    }

    fn human(&self) -> String {
        let jids = self.jids();
        let jids = if jids.is_empty() {
            "none".to_string()
        } else {
            jids.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "lockspace {}\n\
             control_lock  generation {}{}\n\
             \x20             jids needing recovery: {}\n\
             \x20             lvb {}{}\n\
             mounted_lock  {}\n",
            self.lockspace,
            self.lvb.generation(),
            if self.lvb.is_disabled() {
                " (mounts disabled)"
            } else {
                ""
            },
            jids,
            hex(self.lvb.as_bytes()),
            if self.lvb_valid {
                ""
            } else {
                " (VALNOTVALID: a holder died, zeroed)"
            },
            match self.mounted {
                Some(true) => "held: some node is mounted (EX NOQUEUE refused)",
                Some(false) => "free: no node is mounted",
                None => "unknown",
            }
        )
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let rest: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--json")
        .collect();
    match rest.as_slice() {
        ["inspect", ls] => match inspect(ls) {
            Ok(i) => {
                if json {
                    println!("{}", i.json());
                } else {
                    print!("{}", i.human());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("gdlm inspect {ls}: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: gdlm inspect LOCKSPACE [--json]");
            ExitCode::from(2)
        }
    }
}
