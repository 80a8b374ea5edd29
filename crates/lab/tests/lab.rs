//! The lab itself: nodes can reach each other, and everything is gone after drop.

use std::time::Duration;

use lab::{Lab, is_root, wait_for};

fn netns_list() -> String {
    std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

#[test]
fn two_nodes_on_a_bridge_reach_each_other_and_are_cleaned_up() {
    if !is_root() {
        println!("SKIP: needs root");
        return;
    }
    let prefix;
    {
        let mut lab = Lab::new("lab", 1).expect("lab");
        prefix = lab.prefix().to_string();
        lab.add_node("a", &[&["192.0.2.11/24", "2001:db8::11/64"]])
            .expect("node a");
        lab.add_node("b", &[&["192.0.2.12/24", "2001:db8::12/64"]])
            .expect("node b");
        assert!(netns_list().contains(&format!("{prefix}a")));
        let ok = wait_for(
            "ping a -> b",
            Duration::from_secs(5),
            Duration::from_millis(100),
            || {
                lab.exec("a", &["ping", "-c", "1", "-W", "1", "192.0.2.12"])
                    .ok()
            },
        );
        assert!(ok.is_ok(), "{ok:?}");
        let ok6 = wait_for(
            "ping6 b -> a",
            Duration::from_secs(5),
            Duration::from_millis(100),
            || {
                lab.exec("b", &["ping", "-6", "-c", "1", "-W", "1", "2001:db8::11"])
                    .ok()
            },
        );
        assert!(ok6.is_ok(), "{ok6:?}");
        let addresses = lab.addresses("a", "eth0").expect("addresses");
        assert!(
            addresses.iter().any(|a| a == "192.0.2.11/24"),
            "{addresses:?}"
        );
        assert!(
            addresses.iter().any(|a| a == "2001:db8::11/64"),
            "{addresses:?}"
        );
        let idx = lab
            .spawn("b", "sleep.log", &["sleep", "300"])
            .expect("spawn");
        assert!(!lab.process(idx).expect("process").has_exited());
    }
    let after = netns_list();
    assert!(!after.contains(&prefix), "namespaces left behind: {after}");
}
