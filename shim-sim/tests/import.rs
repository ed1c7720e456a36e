//! `gdlm-sim import` on real cluster logs (tests/fixtures): the schedule made from them
//! reproduces each node's generations and results.

use std::path::Path;

use gdlm_sim::import::{compare, RealRun, Story, Token};

fn fixture(name: &str) -> RealRun {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    RealRun::read(&dir).expect("fixture reads")
}

fn results(s: &Story, generation: u32, jid: u32) -> Vec<&'static str> {
    s.tokens
        .iter()
        .find_map(|t| match t {
            Token::Results {
                generation: g,
                jid: j,
                results,
            } if *g == generation && *j == jid => Some(results.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Seeds 1..=20 whose runs match.
fn matching(run: &RealRun) -> Vec<u64> {
    (1..=20).filter(|&s| compare(run, s).matches()).collect()
}

#[test]
fn cluster3_kill_on_6_1_is_reproduced() {
    let run = fixture("cluster3-kill-6.1");
    assert_eq!(run.profile.as_deref(), Some("reference"));
    // What the real logs say: node 1 replays journal 2 after busy tries, node 2 only
    // sees busy, then both unblock at generation 4.
    assert_eq!(results(&run.nodes[0].story, 4, 2), ["busy", "success"]);
    assert_eq!(results(&run.nodes[1].story, 4, 2), ["busy"]);
    assert!(run.nodes[0].story.tokens.contains(&Token::First(0)));
    assert!(run.replay_delay_ms >= 8000, "the 8 s outside hold");
    let good = matching(&run);
    assert!(!good.is_empty(), "no seed reproduces the real run");
    // The matching run's node 1 replays, node 2 ends busy, as on the cluster.
    let c = compare(&run, good[0]);
    assert_eq!(results(&c.sim[0], 4, 2).last(), Some(&"success"));
    assert_eq!(results(&c.sim[1], 4, 2), ["busy"]);
}

#[test]
fn cluster3_kill_on_7_2_is_reproduced() {
    let run = fixture("cluster3-kill-7.2");
    assert_eq!(run.profile.as_deref(), Some("linux-7.2"));
    assert!(run
        .nodes
        .iter()
        .all(|n| n.kernel.as_deref().is_some_and(|k| k.starts_with("7.2"))));
    assert!(!matching(&run).is_empty());
}

#[test]
fn a_join_during_the_first_mount_is_reproduced() {
    let run = fixture("cluster3-kill-6.1-overlap");
    // Node 2 joined while node 1 first-mounted: node 1 never logs done 2.
    assert_eq!(run.overlaps.get(&2), Some(&1));
    assert!(!run.nodes[0].story.tokens.contains(&Token::Done(2)));
    assert!(!matching(&run).is_empty());
}

#[test]
fn a_different_result_is_not_reproduced() {
    // The same run, but the log says node 2 replayed journal 2: no seed shows that
    // and node 1's success as well.
    let mut run = fixture("cluster3-kill-6.1");
    let mut changed = 0;
    for t in &mut run.nodes[1].story.tokens {
        if let Token::Results { results, .. } = t {
            *results = vec!["busy", "success"];
            changed += 1;
        }
    }
    assert_eq!(changed, 1);
    assert!(matching(&run).is_empty());
}
