//! Arbitrary configuration changes (consistent or not) and group messages (sync
//! messages of the current view, mutated ones, or raw bytes) → `Membership<8>`.
//!
//! After every input: an `Err` leaves the membership equal to a clone taken before;
//! once synced, the slot table covers exactly the view with distinct slots ≥ 1, our
//! slot is in it, and a synced member's generation only moves by one per change; every
//! `recover_done` carries our slot and the table's slots; a decoded message re-encodes
//! to the same bytes.
#![no_main]

use arbitrary::Arbitrary;
use gdlm_core::membership::{LeftReason, Member, Membership, SyncMsg};
use libfuzzer_sys::fuzz_target;

const N: usize = 8;

#[derive(Arbitrary, Debug)]
enum Input {
    /// A change from the current view: who leaves (indexes), why, how many join.
    Follow { leave: Vec<(u8, u8)>, join: Vec<(u8, u8)> },
    /// Any lists at all.
    Raw { members: Vec<(u8, u8)>, left: Vec<(u8, u8, u8)>, joined: Vec<(u8, u8)> },
    /// Raw bytes as a group message.
    Bytes(Vec<u8>),
    /// The sync message a synced peer would send now (ages all `age`), maybe with one byte
    /// flipped.
    Echo { age: u8, flip: Option<(u8, u8)> },
}

fn m((n, p): (u8, u8)) -> Member {
    Member::new(u32::from(n % 6), u32::from(p % 4))
}

fn check(ms: &Membership<N>) {
    if !ms.is_synced() {
        assert!(ms.generation().is_none() && ms.our_slot().is_none());
        return;
    }
    let t = ms.table();
    assert_eq!(t.len(), ms.view().len());
    assert!(t.iter().zip(ms.view()).all(|((a, _), b)| a == b));
    assert!(t.iter().all(|&(_, s)| s >= 1));
    for (i, a) in t.iter().enumerate() {
        assert!(t[i + 1..].iter().all(|b| b.1 != a.1), "duplicate slot");
    }
    assert!(ms.our_slot().is_some());
}

fuzz_target!(|inputs: Vec<Input>| {
    let me = Member::new(1, 1);
    let mut ms: Membership<N> = Membership::new(me);
    // Start in the group most of the time: a founder.
    let _ = ms.confchg(&[me], &[], &[me]);
    for input in inputs.into_iter().take(64) {
        let before = ms.clone();
        let gen_before = ms.generation();
        let res = match &input {
            Input::Follow { leave, join } => {
                let view = ms.view().to_vec();
                let mut left: Vec<(Member, LeftReason)> = Vec::new();
                for &(i, why) in leave {
                    if view.is_empty() {
                        break;
                    }
                    let who = view[usize::from(i) % view.len()];
                    if who != me && !left.iter().any(|(l, _)| *l == who) {
                        left.push((who, LeftReason::from_cpg(u32::from(why % 6))));
                    }
                }
                let mut members: Vec<Member> =
                    view.iter().copied().filter(|v| !left.iter().any(|(l, _)| l == v)).collect();
                let mut joined = Vec::new();
                for &j in join {
                    let j = m(j);
                    if !view.contains(&j) && !joined.contains(&j) {
                        joined.push(j);
                        members.push(j);
                    }
                }
                ms.confchg(&members, &left, &joined)
            }
            Input::Raw { members, left, joined } => {
                let members: Vec<Member> = members.iter().map(|&x| m(x)).collect();
                let left: Vec<(Member, LeftReason)> = left
                    .iter()
                    .map(|&(n, p, w)| (m((n, p)), LeftReason::from_cpg(u32::from(w))))
                    .collect();
                let joined: Vec<Member> = joined.iter().map(|&x| m(x)).collect();
                ms.confchg(&members, &left, &joined)
            }
            Input::Bytes(b) => {
                if let Ok(s) = SyncMsg::<N>::decode(b) {
                    let mut buf = [0u8; SyncMsg::<N>::MAX_LEN];
                    let n = s.encode(&mut buf).expect("fits");
                    assert_eq!(&buf[..n], &b[..]);
                }
                ms.deliver(Member::new(2, 2), b)
            }
            Input::Echo { age, flip } => {
                let s = SyncMsg::<N> {
                    generation: ms.generation().unwrap_or(0),
                    table: ms.table().iter().copied().collect(),
                    ages: ms.table().iter().map(|_| u32::from(*age)).collect(),
                };
                let mut buf = [0u8; SyncMsg::<N>::MAX_LEN];
                let n = s.encode(&mut buf).expect("fits");
                if let Some((at, x)) = flip {
                    buf[usize::from(*at) % n] ^= x;
                }
                ms.deliver(Member::new(2, 2), &buf[..n])
            }
        };
        match res {
            Err(_) => assert_eq!(ms, before, "an error changed the state: {input:?}"),
            Ok(c) => {
                if let Some(d) = &c.done {
                    assert_eq!(Some(d.our_slot), ms.our_slot());
                    let slots: Vec<i32> = ms.table().iter().map(|e| e.1).collect();
                    assert_eq!(&d.slots[..], &slots[..]);
                    assert_eq!(Some(d.generation), ms.generation());
                }
                if let (Some(a), Some(b)) = (gen_before, ms.generation()) {
                    assert!(b == a || b == a.wrapping_add(1), "generation {a} -> {b}");
                }
                if !c.failed.is_empty() {
                    assert!(c.prep, "recover_slot without recover_prep");
                }
            }
        }
        check(&ms);
    }
});
