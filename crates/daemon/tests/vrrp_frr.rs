//! Our daemon against FRR's vrrpd (Debian `frr`), VRRPv3 over IPv4, in namespaces
//! (root). FRR runs zebra + vrrpd in node b with their own path space; as FRR wants,
//! the VIP lives on a macvlan with the virtual MAC, which vrrpd protodowns while
//! BACKUP. Skipped when FRR is not installed.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Daemon, can_run, has_vip, master_down, pair, report, start, stop, wait_vip};
use lab::{Lab, wait_for};

const ZEBRA: &str = "/usr/lib/frr/zebra";
const VRRPD: &str = "/usr/lib/frr/vrrpd";
const VIP: &str = "192.0.2.110/24";
const WAIT: Duration = Duration::from_secs(12);
const TOLERANCE: Duration = Duration::from_millis(400);

fn ours_config(priority: u32) -> String {
    format!(
        "vrrp_instance FRR {{
    version 3
    interface eth0
    virtual_router_id 60
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {VIP} dev eth0
    }}
}}
"
    )
}

/// FRR's view of VRID 60 (`show vrrp`), e.g. "Master" / "Backup".
fn frr_status(dir: &Path) -> Option<String> {
    let out = Command::new("vtysh")
        .arg("--vty_socket")
        .arg(dir)
        .args(["-c", "show vrrp"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.trim_start().starts_with("Status (v4)"))
        .and_then(|l| l.split_whitespace().last())
        .map(str::to_string)
}

struct Frr {
    dir: std::path::PathBuf,
    pathspace: String,
    vrrpd: Option<usize>,
}

impl Frr {
    fn start(lab: &mut Lab) -> Frr {
        let node = lab.node("b").expect("b").clone();
        let dir = node.dir.join("frr");
        std::fs::create_dir_all(&dir).expect("frr dir");
        std::fs::write(dir.join("zebra.conf"), "hostname frrb\n").expect("zebra.conf");
        std::fs::write(
            dir.join("vrrpd.conf"),
            "interface eth0\n vrrp 60 version 3\n vrrp 60 priority 200\n \
             vrrp 60 advertisement-interval 1000\n vrrp 60 ip 192.0.2.110\n",
        )
        .expect("vrrpd.conf");
        // The daemons drop to the frr user: it must own their directory.
        let _ = std::fs::set_permissions(
            node.dir.as_path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
        let status = Command::new("chown")
            .args(["-R", "frr:frr"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(status.success());
        // FRR's VRRP interface: a macvlan with the virtual MAC, holding the VIP.
        for args in [
            vec![
                "ip",
                "link",
                "add",
                "vrrp4-2-60",
                "link",
                "eth0",
                "type",
                "macvlan",
                "mode",
                "bridge",
            ],
            vec![
                "ip",
                "link",
                "set",
                "vrrp4-2-60",
                "address",
                "00:00:5e:00:01:3c",
            ],
            vec!["ip", "addr", "add", VIP, "dev", "vrrp4-2-60"],
            vec!["ip", "link", "set", "vrrp4-2-60", "up"],
        ] {
            lab.exec("b", &args).expect("macvlan");
        }
        let mut frr = Frr {
            dir,
            pathspace: node.netns.clone(),
            vrrpd: None,
        };
        let zebra = frr.argv(ZEBRA, "zebra");
        let argv: Vec<&str> = zebra.iter().map(String::as_str).collect();
        lab.spawn("b", "zebra.log", &argv).expect("zebra");
        let api = frr.dir.join("zserv.api");
        wait_for("zebra socket", WAIT, common::POLL, || {
            api.exists().then_some(())
        })
        .expect("zebra starts");
        frr.start_vrrpd(lab);
        frr
    }

    fn argv(&self, program: &str, name: &str) -> Vec<String> {
        let d = self.dir.display();
        vec![
            program.to_string(),
            "-N".into(),
            self.pathspace.clone(),
            "-f".into(),
            format!("{d}/{name}.conf"),
            "-i".into(),
            format!("{d}/{name}.pid"),
            "--vty_socket".into(),
            d.to_string(),
            "-z".into(),
            format!("{d}/zserv.api"),
        ]
    }

    fn start_vrrpd(&mut self, lab: &mut Lab) {
        let vrrpd = self.argv(VRRPD, "vrrpd");
        let argv: Vec<&str> = vrrpd.iter().map(String::as_str).collect();
        self.vrrpd = Some(lab.spawn("b", "vrrpd.log", &argv).expect("vrrpd"));
        let dir = self.dir.clone();
        wait_for("vrrpd answers", WAIT, common::POLL * 5, || frr_status(&dir))
            .expect("vrrpd starts");
    }

    fn crash_vrrpd(&mut self, lab: &mut Lab) {
        if let Some(p) = self.vrrpd.take().and_then(|i| lab.process(i)) {
            let _ = p.signal(9);
            let _ = p.child.wait();
        }
    }

    fn wait_status(&self, want: &str) -> String {
        wait_for(&format!("FRR {want}"), WAIT, common::POLL * 5, || {
            frr_status(&self.dir).filter(|s| s == want)
        })
        .expect("FRR reaches the state")
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        // The daemons die with the lab; FRR leaves an empty path-space directory.
        let _ = std::fs::remove_dir(Path::new("/var/run/frr").join(&self.pathspace));
    }
}

#[test]
fn frr_vrrpd_interoperates_in_both_roles() {
    if !can_run(false) {
        return;
    }
    if !Path::new(VRRPD).is_file() || !lab::have_program("vtysh") {
        println!("SKIP: FRR (apt-get install frr) is not installed");
        return;
    }
    let mut lab = pair("frr");
    let mut frr = Frr::start(&mut lab);
    let ours = start(&mut lab, "a", Daemon::Ours, &ours_config(100));
    frr.wait_status("Master");
    // Our backup hears FRR's priority-200 adverts for well past its down interval.
    let deadline = std::time::Instant::now() + master_down(Duration::from_secs(1), 100) * 2;
    while std::time::Instant::now() < deadline {
        assert!(
            !has_vip(&lab, "a", "eth0", VIP),
            "ours took the VIP from FRR's master\n{}",
            ours.log_text()
        );
        std::thread::sleep(common::POLL * 10);
    }

    // FRR's vrrpd crashes: we take over within Master_Down_Interval.
    frr.crash_vrrpd(&mut lab);
    let takeover = wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("ours takes over from FRR");
    let bound = master_down(Duration::from_secs(1), 100);
    report("FRR crash -> ours takeover (v3 1 s)", takeover, bound);
    assert!(
        takeover <= bound + TOLERANCE,
        "{takeover:?}\n{}",
        ours.log_text()
    );

    // vrrpd comes back with priority 200 and preempts us.
    frr.start_vrrpd(&mut lab);
    frr.wait_status("Master");
    common::wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("ours releases the VIP");
    let log = ours.log_text();
    assert!(
        log.contains(
            "(FRR) Master received advert from 192.0.2.12 with higher priority 200, ours 100"
        ),
        "{log}"
    );

    // Ours with priority 250 preempts FRR, which goes BACKUP.
    assert_eq!(stop(&mut lab, &ours), Some(0));
    let ours = start(&mut lab, "a", Daemon::Ours, &ours_config(250));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("ours preempts FRR");
    frr.wait_status("Backup");
    let log = ours.log_text();
    assert!(
        log.contains("(FRR) received lower priority (200) advert from 192.0.2.12 - discarding"),
        "{log}"
    );
}
