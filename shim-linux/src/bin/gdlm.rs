// SPDX-License-Identifier: GPL-2.0-only
//! `gdlm`: what a DLM lockspace's gfs2-style recovery state is on this node.
//!
//! ```text
//! gdlm status [LOCKSPACE] [--json] [--probe] [--root DIR]
//! gdlm inspect LOCKSPACE [--json]        (= status LOCKSPACE --probe)
//! ```
//! `status` takes no lock and joins nothing: it reads what the kernel publishes (the DLM's
//! debugfs, sysfs and configfs, gfs2's `lock_module` sysfs, the kernel log; see
//! `gdlm_linux::status`). `--probe` adds an NL read of control_lock with VALBLK (it
//! conflicts with no mode, so no holder is disturbed), only when this node is already in the
//! lockspace: it opens the lockspace (or takes a reference on it), never joins one.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use gdlm_core::recovery::LockId as CoreLock;
use gdlm_core::{DlmLkf, DlmMode};
use gdlm_linux::status::{self, Probe, Status};
use gdlm_linux::{sbf, Lockspace, Status as LkStatus};

/// How long the probe's lock and unlock may each take.
const T: Duration = Duration::from_secs(20);

/// Exit status: the lockspace (or some lockspace) is not on this node.
const EXIT_NOT_MEMBER: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "gdlm",
    version,
    about = "The gfs2 lock_dlm recovery state of DLM lockspaces on this node",
    after_help = "Exit status: 0 the status was printed and this node is in the lockspace; \
                  1 an error (a failed --probe, unreadable files); 2 a usage error; \
                  3 the lockspace is not on this node (what is known is still printed)."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Members, slots, generation, the control_lock LVB (where this node masters it),
    /// mounted_lock and journal lock holders, what blocks locking and what recovery waits
    /// for. Takes no lock and joins nothing.
    Status(StatusArgs),
    /// The former command: `status LOCKSPACE --probe`.
    Inspect(InspectArgs),
}

#[derive(Args, Debug)]
struct StatusArgs {
    /// The lockspace (a gfs2 mount's is its lock table's fs name, e.g. `gfs1`); all
    /// lockspaces of this node when omitted.
    lockspace: Option<String>,
    /// Print JSON (one object; an array when no LOCKSPACE is given).
    #[arg(long)]
    json: bool,
    /// Also read the control_lock LVB with an NL request (VALBLK) when this node does not
    /// master it. Only done when this node is already in the lockspace.
    #[arg(long)]
    probe: bool,
    /// Read the kernel's files under DIR instead of / (a copy of sys/ and dev/kmsg taken
    /// on another node).
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
}

#[derive(Args, Debug)]
struct InspectArgs {
    /// The lockspace.
    lockspace: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// control_lock's LVB through a new NL lock with VALBLK (`control_mount`'s first request).
fn probe(ls: &str, root: &Path) -> io::Result<Probe> {
    if root != Path::new("/") {
        return Err(io::Error::other(
            "--probe reads the live DLM: it needs --root /",
        ));
    }
    if !root.join("sys/kernel/dlm").join(ls).is_dir() {
        return Err(io::Error::other(
            "this node is not in the lockspace; a probe would join it (a membership change \
             that blocks locking on every member), so none was made",
        ));
    }
    // Open the lockspace's device if a userspace program made one, else take a reference
    // on the kernel's lockspace (dlm_create_lockspace on an existing name joins nothing).
    let mut l = match Lockspace::open(ls) {
        Ok(l) => l,
        Err(_) => Lockspace::create(ls)?,
    };
    let name = CoreLock::Control.name();
    let lk = l.lock(name.as_bytes(), DlmMode::Nl, DlmLkf::VALBLK, None)?;
    let c = l.wait_completion(lk, T)?;
    if c.status != LkStatus::Granted {
        return Err(io::Error::other(format!(
            "control_lock NL request: {:?}",
            c.status
        )));
    }
    let p = Probe {
        lvb: l.completion_lvb(&c).copied().unwrap_or_default(),
        valnotvalid: c.sb_flags & sbf::VALNOTVALID != 0,
    };
    l.unlock(lk, DlmLkf::empty(), None)?;
    l.wait_completion(lk, T)?;
    l.release(false)?;
    Ok(p)
}

/// One lockspace's status, with the probe's failure as a note.
fn one(ls: &str, root: &Path, want_probe: bool) -> (Status, bool) {
    let src = status::gather(root, ls);
    let mut failed = false;
    let mut note = None;
    let p = if want_probe {
        match probe(ls, root) {
            Ok(p) => Some(p),
            Err(e) => {
                failed = true;
                note = Some(format!("--probe: {e}"));
                None
            }
        }
    } else {
        None
    };
    let mut s = status::analyze(ls, &src, p);
    s.notes.extend(note);
    (s, failed)
}

fn run(names: Vec<String>, root: &Path, json: bool, want_probe: bool, many: bool) -> ExitCode {
    let mut failed = false;
    let mut all = Vec::new();
    for n in &names {
        let (s, f) = one(n, root, want_probe);
        failed |= f;
        all.push(s);
    }
    if json {
        let out = if many {
            serde_json::to_string(&all)
        } else {
            serde_json::to_string(&all[0])
        };
        match out {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("gdlm: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        let texts: Vec<String> = all.iter().map(Status::human).collect();
        print!("{}", texts.join("\n"));
    }
    if failed {
        ExitCode::FAILURE
    } else if all.iter().any(|s| !s.member) {
        ExitCode::from(EXIT_NOT_MEMBER)
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Status(a) => match a.lockspace {
            Some(ls) => run(vec![ls], &a.root, a.json, a.probe, false),
            None => {
                let names = status::lockspaces(&a.root);
                if names.is_empty() {
                    if a.json {
                        println!("[]");
                    } else {
                        println!("no DLM lockspace on this node");
                    }
                    return ExitCode::from(EXIT_NOT_MEMBER);
                }
                run(names, &a.root, a.json, a.probe, true)
            }
        },
        Cmd::Inspect(a) => run(vec![a.lockspace], Path::new("/"), a.json, true, false),
    }
}
