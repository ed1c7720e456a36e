// SPDX-License-Identifier: GPL-2.0-only
//! Corosync CPG (closed process group) membership through `rust-corosync`: join a group, poll
//! its fd, [`Cpg::dispatch`] into [`CpgEvent`]s, multicast with agreed ordering.
//!
//! CPG gives every member the same configuration changes and messages in the same total order,
//! and delivers a message in the configuration it was sent in (virtual synchrony): what the
//! daemon needs to derive the same slots and generations on every node.
//!
//! `rust-corosync` calls plain `fn` callbacks (no closure state) from inside `cpg_dispatch` on
//! the caller's thread; they only queue the event in a thread-local list tagged with the
//! handle, and [`Cpg::dispatch`] takes its own events out after `cpg_dispatch` returns.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use rust_corosync::cpg;
use rust_corosync::{CsError, DispatchFlags, NodeId};

/// A process in a CPG group: its node and pid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CpgMember {
    /// Corosync node id.
    pub nodeid: u32,
    /// Process id on that node.
    pub pid: u32,
}

/// `CPG_REASON_LEAVE`: the process called `cpg_leave` (or `cpg_finalize`).
pub const CPG_REASON_LEAVE: u32 = 2;
/// `CPG_REASON_NODEDOWN`: its node left the corosync membership.
pub const CPG_REASON_NODEDOWN: u32 = 3;
/// `CPG_REASON_PROCDOWN`: the process died without leaving.
pub const CPG_REASON_PROCDOWN: u32 = 5;

/// What a CPG group delivered, in delivery order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CpgEvent {
    /// A configuration change: the members after it, who left (with the `CPG_REASON_*`
    /// code) and who joined.
    ConfChg {
        /// Members after the change (as corosync orders them).
        members: Vec<CpgMember>,
        /// Members that left, each with its reason code.
        left: Vec<(CpgMember, u32)>,
        /// Members that joined.
        joined: Vec<CpgMember>,
    },
    /// A message multicast by `from`.
    Deliver {
        /// The sender.
        from: CpgMember,
        /// The message.
        msg: Vec<u8>,
    },
}

thread_local! {
    /// Events queued by the callbacks during the current `cpg_dispatch`, with their handle.
    static QUEUED: RefCell<Vec<(cpg::Handle, CpgEvent)>> = const { RefCell::new(Vec::new()) };
}

fn member(a: &cpg::Address) -> CpgMember {
    CpgMember {
        nodeid: u32::from(a.nodeid),
        pid: a.pid,
    }
}

fn queue(h: &cpg::Handle, ev: CpgEvent) {
    let _ = QUEUED.try_with(|q| {
        if let Ok(mut q) = q.try_borrow_mut() {
            q.push((h.clone(), ev));
        }
    });
}

fn on_deliver(h: &cpg::Handle, _group: String, nodeid: NodeId, pid: u32, msg: &[u8], _: usize) {
    let from = CpgMember {
        nodeid: u32::from(nodeid),
        pid,
    };
    queue(
        h,
        CpgEvent::Deliver {
            from,
            msg: msg.to_vec(),
        },
    );
}

fn on_confchg(
    h: &cpg::Handle,
    _group: &str,
    members: Vec<cpg::Address>,
    left: Vec<cpg::Address>,
    joined: Vec<cpg::Address>,
) {
    queue(
        h,
        CpgEvent::ConfChg {
            members: members.iter().map(member).collect(),
            left: left.iter().map(|a| (member(a), a.reason as u32)).collect(),
            joined: joined.iter().map(member).collect(),
        },
    );
}

fn cs(e: CsError) -> io::Error {
    let kind = match e {
        CsError::CsErrTryAgain => io::ErrorKind::WouldBlock,
        CsError::CsErrNotExist | CsError::CsErrLibrary => io::ErrorKind::NotConnected,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("corosync cpg: {e}"))
}

/// The name of a reason code as corosync's `cpg.h` spells it.
pub fn reason_name(reason: u32) -> &'static str {
    match reason {
        1 => "join",
        CPG_REASON_LEAVE => "leave",
        CPG_REASON_NODEDOWN => "nodedown",
        4 => "nodeup",
        CPG_REASON_PROCDOWN => "procdown",
        _ => "unknown",
    }
}

/// A joined CPG group.
pub struct Cpg {
    handle: cpg::Handle,
    group: String,
    fd: RawFd,
    me: CpgMember,
    joined: bool,
}

impl Cpg {
    /// Connects to corosync and joins `group` (at most 127 bytes): [`Cpg::connect`] then
    /// [`Cpg::join_group`]. The first event is the configuration change that adds this
    /// process.
    pub fn join(group: &str) -> io::Result<Cpg> {
        let mut c = Cpg::connect()?;
        c.join_group(group)?;
        Ok(c)
    }

    /// Connects to corosync without joining a group yet: [`Cpg::me`] is known (a daemon
    /// needs it before it joins) and the fd delivers nothing until [`Cpg::join_group`].
    pub fn connect() -> io::Result<Cpg> {
        let model = cpg::ModelData::ModelV1(cpg::Model1Data {
            flags: cpg::Model1Flags::None,
            deliver_fn: Some(on_deliver),
            confchg_fn: Some(on_confchg),
            totem_confchg_fn: None,
        });
        let handle = cpg::initialize(&model, 0).map_err(cs)?;
        let fd = cpg::fd_get(&handle).map_err(cs)?;
        let nodeid = u32::from(cpg::local_get(&handle).map_err(cs)?);
        Ok(Cpg {
            handle,
            group: String::new(),
            fd,
            me: CpgMember {
                nodeid,
                pid: std::process::id(),
            },
            joined: false,
        })
    }

    /// Joins `group` (at most 127 bytes). `cpg_join` answers `CS_ERR_TRY_AGAIN` while
    /// corosync syncs: retried every 100 ms, for at most 10 s (a poll loop calls
    /// [`Cpg::try_join_group`] from its timer instead).
    pub fn join_group(&mut self, group: &str) -> io::Result<()> {
        for _ in 0..100 {
            if self.try_join_group(group)? {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.try_join_group(group)?
            .then_some(())
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "cpg join: busy for 10 s"))
    }

    /// One `cpg_join`: `Ok(true)` joined, `Ok(false)` corosync answered `CS_ERR_TRY_AGAIN`
    /// (it is syncing: try again later).
    pub fn try_join_group(&mut self, group: &str) -> io::Result<bool> {
        if self.joined {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "already in a group",
            ));
        }
        match cpg::join(&self.handle, group) {
            Ok(()) => {
                self.group = group.to_string();
                self.joined = true;
                Ok(true)
            }
            Err(CsError::CsErrTryAgain) => Ok(false),
            Err(e) => Err(cs(e)),
        }
    }

    /// This process as the group sees it.
    pub fn me(&self) -> CpgMember {
        self.me
    }

    /// The group name.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Runs every pending callback (`CS_DISPATCH_ALL`, no blocking) and returns the events,
    /// in delivery order. Call it when the fd is readable.
    pub fn dispatch(&mut self) -> io::Result<Vec<CpgEvent>> {
        let r = cpg::dispatch(&self.handle, DispatchFlags::All);
        let mut mine = Vec::new();
        QUEUED.with(|q| {
            let mut q = q.borrow_mut();
            let (ours, others): (Vec<_>, Vec<_>) =
                q.drain(..).partition(|(h, _)| *h == self.handle);
            *q = others;
            mine = ours.into_iter().map(|(_, e)| e).collect();
        });
        match r {
            // TRY_AGAIN: nothing was pending (a spurious wake-up), not an error.
            Ok(()) | Err(CsError::CsErrTryAgain) => Ok(mine),
            Err(e) => Err(cs(e)),
        }
    }

    /// Multicasts `msg` to the group with agreed (total) ordering; every member, this one
    /// included, gets it as a [`CpgEvent::Deliver`] in the same place of the event order.
    /// Retries for up to 5 s while corosync applies flow control (a poll loop calls
    /// [`Cpg::try_mcast`] from its timer instead).
    pub fn mcast(&self, msg: &[u8]) -> io::Result<()> {
        for _ in 0..500 {
            if self.try_mcast(msg)? {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "cpg mcast: flow control did not clear in 5 s",
        ))
    }

    /// One `cpg_mcast_joined` (agreed order): `Ok(true)` sent, `Ok(false)` corosync applies
    /// flow control (`CS_ERR_TRY_AGAIN`: nothing was sent, try again later, in order).
    pub fn try_mcast(&self, msg: &[u8]) -> io::Result<bool> {
        match cpg::mcast_joined(&self.handle, cpg::Guarantee::TypeAgreed, msg) {
            Ok(()) => Ok(true),
            Err(CsError::CsErrTryAgain) => Ok(false),
            Err(e) => Err(cs(e)),
        }
    }

    /// Leaves the group (the others see reason `leave`); the connection closes on drop.
    pub fn leave(&mut self) -> io::Result<()> {
        if !self.joined {
            return Ok(());
        }
        self.joined = false;
        cpg::leave(&self.handle, &self.group).map_err(cs)
    }
}

impl AsRawFd for Cpg {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl AsFd for Cpg {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd belongs to the corosync connection, open until `self.handle` is
        // finalized when `self` drops.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

impl std::fmt::Debug for Cpg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cpg")
            .field("group", &self.group)
            .field("me", &self.me)
            .field("fd", &self.fd)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_are_cpg_h() {
        // cpg.h: CPG_REASON_JOIN 1, LEAVE 2, NODEDOWN 3, NODEUP 4, PROCDOWN 5.
        assert_eq!(cpg::Reason::Leave as u32, CPG_REASON_LEAVE);
        assert_eq!(cpg::Reason::NodeDown as u32, CPG_REASON_NODEDOWN);
        assert_eq!(cpg::Reason::ProcDown as u32, CPG_REASON_PROCDOWN);
        assert_eq!(reason_name(CPG_REASON_PROCDOWN), "procdown");
        assert_eq!(reason_name(CPG_REASON_NODEDOWN), "nodedown");
        assert_eq!(reason_name(99), "unknown");
    }

    #[test]
    fn members_order_by_node_then_pid() {
        let mut v = [
            CpgMember { nodeid: 2, pid: 1 },
            CpgMember { nodeid: 1, pid: 9 },
            CpgMember { nodeid: 1, pid: 3 },
        ];
        v.sort();
        assert_eq!(v.map(|m| (m.nodeid, m.pid)), [(1, 3), (1, 9), (2, 1)]);
    }

    #[test]
    fn address_converts() {
        let a = cpg::Address {
            nodeid: NodeId::from(3),
            pid: 77,
            reason: cpg::Reason::new(CPG_REASON_PROCDOWN),
        };
        assert_eq!(member(&a), CpgMember { nodeid: 3, pid: 77 });
        assert_eq!(a.reason as u32, CPG_REASON_PROCDOWN);
    }
}
