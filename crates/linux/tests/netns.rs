//! Network-namespace integration tests (need root). Every test makes its
//! own namespaces, named `kl<pid>x<n>` so that concurrent runs and tests
//! never collide, and a guard deletes them even when the test panics.
//! Without root (or without `ip netns`), each test prints why and passes.

use std::fs::File;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use linux::addr::AddressSpec;
use linux::garp::GarpSender;
use linux::link::VmacSpec;
use linux::monitor::{Event, Monitor};
use linux::sysctl::SysctlChanges;
use linux::vrrp_socket::{
    Delivery, FilterScope, RECEIVE_BATCH, ReceiveBatch, ReceivedV4, ReceivedV6, SocketOptions,
    VRRP_GROUP_V4, VRRP_GROUP_V6, VrrpProtocol, VrrpSocketError, VrrpSocketV4, VrrpSocketV6,
};
use linux::{Change, IfRef, MacAddr, Netlink};

const DEADLINE: Duration = Duration::from_secs(10);
/// How often a polled condition is checked.
const POLL: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------- harness

static NEXT_NS: AtomicU32 = AtomicU32::new(0);

/// A network namespace deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Self {
        let n = NEXT_NS.fetch_add(1, Ordering::Relaxed);
        let name = format!("kl{}x{n}", std::process::id());
        run("ip", &["netns", "add", &name]);
        let ns = Self { name };
        // No DAD: link-local addresses are usable at once, no waiting on timers.
        ns.exec(&["sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad"]);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", &self.name];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    fn exec(&self, args: &[&str]) -> String {
        let mut full = vec!["netns", "exec", &self.name];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    /// Runs `f` on a fresh thread that has entered this namespace (sockets it
    /// opens belong here), inside the caller's tokio runtime context. The
    /// thread ends with `f`, so it is never reused elsewhere.
    fn enter<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.name);
        let runtime = tokio::runtime::Handle::current();
        std::thread::spawn(move || {
            let file = File::open(&path).expect("open netns file");
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let _guard = runtime.enter();
            f()
        })
        .join()
        .expect("netns thread panicked")
    }

    /// Runs an async body on a fresh thread inside this namespace, with its
    /// own runtime; for code that must *run* there, not just open sockets
    /// there (e.g. /proc/sys/net writes).
    fn run<T, F>(&self, body: impl FnOnce() -> F + Send + 'static) -> T
    where
        T: Send + 'static,
        F: Future<Output = T>,
    {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = File::open(&path).expect("open netns file");
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                tokio::time::timeout(DEADLINE * 2, body())
                    .await
                    .expect("namespace body timed out")
            })
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn netlink(&self) -> Netlink {
        self.enter(|| Netlink::new().expect("netlink"))
    }

    fn read_sysctl(&self, path: &str) -> String {
        self.exec(&["cat", &format!("/proc/sys/{path}")])
            .trim()
            .to_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes its interfaces (and veth peers).
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .expect("spawn command");
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether namespace tests can run here; prints why not. Probed once per
/// process (tests run concurrently).
fn can_run() -> bool {
    static CAN_RUN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let can = *CAN_RUN.get_or_init(probe_namespaces);
    if !can {
        eprintln!("skipping: network-namespace tests need root and `ip netns`");
    }
    can
}

fn probe_namespaces() -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipping: network-namespace tests need root");
        return false;
    }
    let probe = format!("kl{}probe", std::process::id());
    let ok = Command::new("ip")
        .args(["netns", "add", &probe])
        .status()
        .is_ok_and(|s| s.success());
    let _ = Command::new("ip").args(["netns", "del", &probe]).status();
    if !ok {
        eprintln!("skipping: `ip netns add` does not work here");
    }
    ok
}

/// Two namespaces joined by a veth pair `va` (in a) / `vb` (in b), both up.
struct Pair {
    a: Netns,
    b: Netns,
}

impl Pair {
    fn new() -> Self {
        let (a, b) = (Netns::new(), Netns::new());
        run(
            "ip",
            &[
                "link", "add", "va", "netns", &a.name, "type", "veth", "peer", "name", "vb",
                "netns", &b.name,
            ],
        );
        a.ip(&["link", "set", "va", "up"]);
        b.ip(&["link", "set", "vb", "up"]);
        Self { a, b }
    }

    /// A pair with 192.0.2.1/24 on `va` and 192.0.2.2/24 on `vb`.
    fn new_v4() -> Self {
        let pair = Self::new();
        pair.a.ip(&["addr", "add", "192.0.2.1/24", "dev", "va"]);
        pair.b.ip(&["addr", "add", "192.0.2.2/24", "dev", "vb"]);
        pair
    }

    /// Opens one socket in each namespace (`in_a` in a, `in_b` in b), each
    /// from a thread that has entered it: (socket in a, socket in b).
    fn open_sockets<A, S>(
        &self,
        open: fn(&SocketOptions<A>) -> Result<S, VrrpSocketError>,
        in_a: SocketOptions<A>,
        in_b: SocketOptions<A>,
    ) -> (S, S)
    where
        A: Send + 'static,
        S: Send + 'static,
    {
        let a = self.a.enter(move || open(&in_a).expect("open A"));
        let b = self.b.enter(move || open(&in_b).expect("open B"));
        (a, b)
    }
}

/// Multicast to `group` on `interface`, kernel filter on.
fn multicast<A>(interface: IfRef, protocol: VrrpProtocol, group: A) -> SocketOptions<A> {
    SocketOptions {
        interface: Some(interface),
        protocol,
        delivery: Delivery::Multicast { group },
        receive_buffer: None,
        force_receive_buffer: false,
        kernel_filter: true,
        filter_scope: FilterScope::default(),
    }
}

/// Unicast VRRP from `source` on `interface`, kernel filter on.
fn unicast<A>(interface: IfRef, source: A) -> SocketOptions<A> {
    SocketOptions {
        interface: Some(interface),
        protocol: VrrpProtocol::Vrrp,
        delivery: Delivery::Unicast { source },
        receive_buffer: None,
        force_receive_buffer: false,
        kernel_filter: true,
        filter_scope: FilterScope::default(),
    }
}

fn if_ref(ns: &Netns, name: &str) -> IfRef {
    let index = ns.read_iface_index(name);
    IfRef {
        index,
        name: name.to_owned(),
    }
}

impl Netns {
    /// A veth `name` (peer `<name>p`) inside the namespace, both ends up so
    /// that `name` is UP and RUNNING. (The test kernel may lack `dummy`.)
    fn local_veth(&self, name: &str, extra: &[&str]) {
        let peer = format!("{name}p");
        let mut args = vec!["link", "add", name];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["type", "veth", "peer", "name", &peer]);
        self.ip(&args);
        self.ip(&["link", "set", &peer, "up"]);
        self.ip(&["link", "set", name, "up"]);
    }

    fn read_iface_index(&self, name: &str) -> u32 {
        self.exec(&["cat", &format!("/sys/class/net/{name}/ifindex")])
            .trim()
            .parse()
            .expect("ifindex")
    }

    fn mac_of(&self, name: &str) -> MacAddr {
        let text = self.exec(&["cat", &format!("/sys/class/net/{name}/address")]);
        let bytes: Vec<u8> = text
            .trim()
            .split(':')
            .map(|h| u8::from_str_radix(h, 16).expect("hex"))
            .collect();
        MacAddr::from_slice(&bytes).expect("6-byte MAC")
    }
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

// ------------------------------------------------------------------ addr

#[tokio::test(flavor = "current_thread")]
async fn vip_add_delete_is_idempotent_and_visible() {
    if !can_run() {
        return;
    }
    let ns = Netns::new();
    ns.local_veth("d0", &[]);
    let d0 = if_ref(&ns, "d0");
    let nl = ns.netlink();

    let vip: IpAddr = "192.0.2.10".parse().expect("literal");
    let mut spec = AddressSpec::new(d0.index, vip, 24);
    spec.label = Some("d0:vip".into());
    spec.broadcast = Some(Ipv4Addr::new(192, 0, 2, 255));
    assert_eq!(nl.add_address(&spec).await.expect("add"), Change::Done);
    assert_eq!(
        nl.add_address(&spec).await.expect("add again"),
        Change::AlreadyInPlace
    );
    let shown = ns.ip(&["-4", "addr", "show", "dev", "d0"]);
    assert!(
        shown.contains("inet 192.0.2.10/24 brd 192.0.2.255 scope global d0:vip"),
        "{shown}"
    );

    let listed = nl.list_addresses(Some(d0.index)).await.expect("list");
    assert!(
        listed.iter().any(|a| a.address == vip
            && a.prefix_len == 24
            && a.label.as_deref() == Some("d0:vip"))
    );

    assert_eq!(
        nl.delete_address(d0.index, vip, 24).await.expect("delete"),
        Change::Done
    );
    assert_eq!(
        nl.delete_address(d0.index, vip, 24)
            .await
            .expect("delete again"),
        Change::AlreadyInPlace
    );
    assert!(
        !ns.ip(&["-4", "addr", "show", "dev", "d0"])
            .contains("192.0.2.10")
    );

    // A real failure is typed and carries the errno.
    let missing = AddressSpec::new(9999, vip, 24);
    let error = nl
        .add_address(&missing)
        .await
        .expect_err("no such interface");
    assert_eq!(error.errno(), Some(libc::ENODEV), "{error}");
}

#[tokio::test(flavor = "current_thread")]
async fn ipv6_vip_is_nodad_and_deprecated_like_upstream() {
    if !can_run() {
        return;
    }
    let ns = Netns::new();
    ns.local_veth("d0", &[]);
    let d0 = if_ref(&ns, "d0");
    let nl = ns.netlink();

    let host: IpAddr = "2001:db8::10".parse().expect("literal");
    let mut host_spec = AddressSpec::new(d0.index, host, 128);
    host_spec.noprefixroute = true;
    nl.add_address(&host_spec).await.expect("add /128");
    let net: IpAddr = "2001:db8:1::10".parse().expect("literal");
    nl.add_address(&AddressSpec::new(d0.index, net, 64))
        .await
        .expect("add /64");

    let shown = ns.ip(&["-6", "addr", "show", "dev", "d0"]);
    let line_of = |needle: &str| {
        let mut lines = shown.lines();
        let line = lines
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} missing: {shown}"))
            .to_owned();
        line + lines.next().unwrap_or_default()
    };
    let host_line = line_of("2001:db8::10/128");
    assert!(host_line.contains("nodad"), "{host_line}");
    assert!(host_line.contains("noprefixroute"), "{host_line}");
    assert!(host_line.contains("deprecated"), "{host_line}");
    assert!(host_line.contains("preferred_lft 0sec"), "{host_line}");
    let net_line = line_of("2001:db8:1::10/64");
    assert!(net_line.contains("nodad"), "{net_line}");
    assert!(!net_line.contains("deprecated"), "{net_line}");

    let listed = nl.list_addresses(Some(d0.index)).await.expect("list");
    let host_entry = listed.iter().find(|a| a.address == host).expect("listed");
    assert_eq!(host_entry.prefix_len, 128);
    const IFA_F_NODAD: u32 = 0x02;
    const IFA_F_NOPREFIXROUTE: u32 = 0x200;
    let wanted = IFA_F_NODAD | IFA_F_NOPREFIXROUTE;
    assert_eq!(host_entry.flags & wanted, wanted);

    assert_eq!(
        nl.delete_address(d0.index, host, 128)
            .await
            .expect("delete"),
        Change::Done
    );
    assert!(
        !ns.ip(&["-6", "addr", "show", "dev", "d0"])
            .contains("2001:db8::10/128")
    );
}

// ------------------------------------------------------------------ link

#[tokio::test(flavor = "current_thread")]
async fn link_lookup_and_vmac_lifecycle() {
    if !can_run() {
        return;
    }
    let ns = Netns::new();
    ns.local_veth("eth0", &["mtu", "1400"]);
    let nl = ns.netlink();

    let eth0 = nl
        .link_by_name("eth0")
        .await
        .expect("get")
        .expect("eth0 exists");
    assert_eq!(eth0.mtu, Some(1400));
    assert_eq!(eth0.mac, Some(ns.mac_of("eth0")));
    assert!(eth0.is_up() && eth0.is_ethernet() && !eth0.is_noarp());
    assert_eq!(
        nl.link_by_index(eth0.index)
            .await
            .expect("get")
            .map(|l| l.name),
        Some("eth0".into())
    );
    assert_eq!(nl.link_by_name("nonesuch").await.expect("get"), None);
    assert!(
        nl.list_links()
            .await
            .expect("list")
            .iter()
            .any(|l| l.name == "lo")
    );

    let arp_ignore_before = ns.read_sysctl("net/ipv4/conf/eth0/arp_ignore");
    // /proc/sys/net follows the network namespace of the thread that opens
    // it, so the VMAC (netlink + sysctls) is made from a thread inside.
    let spec = VmacSpec::new(eth0.if_ref(), 51, false);
    let (vmac, mut sysctls) = ns.run(move || async move {
        let nl = Netlink::new().expect("netlink");
        let mut sysctls = SysctlChanges::new();
        let vmac = nl
            .create_vmac(&spec, &mut sysctls)
            .await
            .expect("create vmac");
        // A second run finds and reuses it.
        let again = nl
            .create_vmac(&spec, &mut sysctls)
            .await
            .expect("reuse vmac");
        assert!(!again.created);
        // Not on a non-Ethernet parent (keepalived: FAULT).
        let lo = nl.link_by_name("lo").await.expect("get").expect("lo");
        let on_lo = nl
            .create_vmac(&VmacSpec::new(lo.if_ref(), 52, false), &mut sysctls)
            .await;
        assert!(
            matches!(on_lo, Err(linux::link::VmacError::ParentNotEthernet(ref n)) if n == "lo"),
            "{on_lo:?}"
        );
        (vmac, sysctls)
    });
    assert!(vmac.created);
    assert_eq!(vmac.link.name, "vrrp.51");
    assert_eq!(vmac.link.mac, Some(MacAddr([0, 0, 0x5e, 0, 1, 51])));
    assert_eq!(vmac.link.parent, Some(eth0.index));
    assert_eq!(vmac.link.macvlan_private, Some(true));
    assert!(vmac.link.is_up());
    let details = ns.ip(&["-d", "link", "show", "vrrp.51"]);
    assert!(details.contains("macvlan mode private"), "{details}");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/vrrp.51/arp_ignore"), "1");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/vrrp.51/accept_local"), "1");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/vrrp.51/rp_filter"), "0");
    assert_eq!(
        ns.read_sysctl("net/ipv4/conf/vrrp.51/promote_secondaries"),
        "1"
    );
    assert_eq!(ns.read_sysctl("net/ipv4/conf/eth0/arp_ignore"), "1");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/eth0/arp_filter"), "1");

    // Deleting forgets the VMAC's own sysctls; restoring puts the parent's back.
    assert_eq!(
        nl.delete_vmac(&vmac.link, &mut sysctls)
            .await
            .expect("delete"),
        Change::Done
    );
    assert!(nl.link_by_name("vrrp.51").await.expect("get").is_none());
    let restored = ns.enter(move || {
        sysctls.restore().expect("restore");
        sysctls.saved().len()
    });
    assert_eq!(restored, 0);
    assert_eq!(
        ns.read_sysctl("net/ipv4/conf/eth0/arp_ignore"),
        arp_ignore_before
    );
}

// --------------------------------------------------------------- monitor

async fn next_matching(
    monitor: &mut Monitor,
    what: &str,
    wanted: impl Fn(&Event) -> bool,
) -> Event {
    within(what, async {
        loop {
            let event = monitor.next().await.expect("monitor closed");
            if wanted(&event) {
                return event;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn monitor_reports_link_down_and_address_removal() {
    if !can_run() {
        return;
    }
    let ns = Netns::new();
    ns.local_veth("d0", &[]);
    ns.ip(&["addr", "add", "198.51.100.1/24", "dev", "d0"]);
    let d0 = if_ref(&ns, "d0");
    let nl = ns.netlink();
    let mut monitor = ns.enter(|| Monitor::new().expect("monitor"));
    for link in nl.list_links().await.expect("links") {
        monitor.decoder_mut().seed(&link);
    }

    ns.ip(&["link", "set", "d0", "down"]);
    let down = next_matching(&mut monitor, "link down", |e| {
        matches!(e, Event::LinkDown { .. })
    })
    .await;
    assert_eq!(
        down,
        Event::LinkDown {
            ifindex: d0.index,
            name: "d0".into()
        }
    );

    ns.ip(&["addr", "del", "198.51.100.1/24", "dev", "d0"]);
    // Taking the link down already removed its IPv6 link-local address;
    // wait for the IPv4 one we delete by hand.
    let ours: IpAddr = "198.51.100.1".parse().expect("literal");
    let removed = next_matching(
        &mut monitor,
        "address removal",
        |e| matches!(e, Event::AddrRemoved { addr, .. } if *addr == ours),
    )
    .await;
    assert_eq!(
        removed,
        Event::AddrRemoved {
            ifindex: d0.index,
            addr: ours,
            prefix: 24
        }
    );

    ns.ip(&["link", "set", "d0", "up"]);
    let up = next_matching(&mut monitor, "link up", |e| {
        matches!(e, Event::LinkUp { .. })
    })
    .await;
    assert_eq!(
        up,
        Event::LinkUp {
            ifindex: d0.index,
            name: "d0".into()
        }
    );

    ns.ip(&["link", "set", "d0", "mtu", "1400"]);
    let changed = next_matching(&mut monitor, "MTU change", |e| {
        matches!(e, Event::LinkChanged { .. })
    })
    .await;
    assert!(
        matches!(&changed, Event::LinkChanged { info } if info.mtu == Some(1400) && info.index == d0.index),
        "{changed:?}"
    );
    ns.ip(&["link", "set", "d0", "address", "02:00:5e:10:20:30"]);
    let changed = next_matching(&mut monitor, "MAC change", |e| {
        matches!(e, Event::LinkChanged { .. })
    })
    .await;
    let expected_mac = Some(MacAddr([2, 0, 0x5e, 0x10, 0x20, 0x30]));
    assert!(
        matches!(&changed, Event::LinkChanged { info } if info.mac == expected_mac),
        "{changed:?}"
    );

    ns.ip(&["link", "del", "d0"]);
    let deleted = next_matching(&mut monitor, "link deleted", |e| {
        matches!(e, Event::LinkDeleted { .. })
    })
    .await;
    assert_eq!(
        deleted,
        Event::LinkDeleted {
            ifindex: d0.index,
            name: "d0".into()
        }
    );
}

#[tokio::test(flavor = "current_thread")]
async fn monitor_reports_overrun_when_notifications_are_lost() {
    if !can_run() {
        return;
    }
    let ns = Netns::new();
    ns.local_veth("d0", &[]);
    // The smallest buffer the kernel allows, not read while 200 addresses
    // arrive (the monitor task cannot run while this thread runs `ip`).
    let mut monitor = ns.enter(|| Monitor::with_receive_buffer(0).expect("monitor"));
    let batch: String = (1..=200)
        .map(|i| format!("addr add 198.51.100.{i}/32 dev d0\n"))
        .collect();
    let path = std::env::temp_dir().join(format!("{}-batch", ns.name));
    std::fs::write(&path, batch).expect("write batch");
    let result =
        std::panic::catch_unwind(|| ns.ip(&["-batch", path.to_str().expect("utf-8 path")]));
    let _ = std::fs::remove_file(&path);
    result.expect("ip -batch");
    next_matching(&mut monitor, "overrun", |e| *e == Event::Overrun).await;
}

// ----------------------------------------------------------- VRRP sockets

/// An IPv4 VRRPv3 advert with its IP header, as the codec would build it
/// (the kernel fills the IP checksum, total length and id).
fn ipv4_advert(source: Ipv4Addr, dest: Ipv4Addr, ttl: u8, vrid: u8) -> Vec<u8> {
    let mut p = vec![0u8; 20 + 12];
    p[0] = 0x45;
    p[1] = 0xc0;
    let total = u16::try_from(p.len()).expect("small");
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[8] = ttl;
    p[9] = 112;
    p[12..16].copy_from_slice(&source.octets());
    p[16..20].copy_from_slice(&dest.octets());
    p[20] = 0x31;
    p[21] = vrid;
    p[22] = 100;
    p[23] = 1;
    p[24..26].copy_from_slice(&100u16.to_be_bytes());
    p[28..32].copy_from_slice(&[192, 0, 2, 100]);
    p
}

fn ipv6_advert(vrid: u8) -> Vec<u8> {
    let mut p = vec![0u8; 8 + 16];
    p[0] = 0x31;
    p[1] = vrid;
    p[2] = 100;
    p[3] = 1;
    p[4..6].copy_from_slice(&100u16.to_be_bytes());
    p[8..24].copy_from_slice(
        &"2001:db8::100"
            .parse::<Ipv6Addr>()
            .expect("literal")
            .octets(),
    );
    p
}

#[tokio::test(flavor = "current_thread")]
async fn ipv4_multicast_advert_crosses_with_ttl_255_and_filter_drops_bad_ttl() {
    if !can_run() {
        return;
    }
    let pair = Pair::new_v4();
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let (sender, receiver) = pair.open_sockets(
        VrrpSocketV4::open,
        multicast(va, VrrpProtocol::Vrrp, VRRP_GROUP_V4),
        multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V4),
    );

    let source = Ipv4Addr::new(192, 0, 2, 1);
    // Sent first, but the kernel filter must drop it: RFC 5798 §7.1 TTL 255.
    sender
        .send(&ipv4_advert(source, VRRP_GROUP_V4, 254, 7), VRRP_GROUP_V4)
        .await
        .expect("send ttl 254");
    sender
        .send(&ipv4_advert(source, VRRP_GROUP_V4, 255, 51), VRRP_GROUP_V4)
        .await
        .expect("send ttl 255");

    let mut buf = [0u8; 1500];
    let got = within("advert in B", receiver.recv(&mut buf))
        .await
        .expect("recv");
    assert_eq!(got.source, source);
    assert_eq!(got.dest, VRRP_GROUP_V4);
    assert_eq!(got.ttl, 255);
    assert_eq!(got.len, 32);
    assert_eq!(
        buf[21], 51,
        "the TTL-254 advert (VRID 7) must not get through"
    );
    assert_eq!(&buf[20..24], &[0x31, 51, 100, 1]);
}

/// The filter keeps only the socket's VRIDs and versions, and every packet the
/// kernel refuses is counted: by the arrival counter (filtered) or by the receive
/// queue's own counter (queue full).
#[tokio::test(flavor = "current_thread")]
async fn kernel_filter_scope_and_drop_counters() {
    if !can_run() {
        return;
    }
    let pair = Pair::new_v4();
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let scoped = SocketOptions {
        filter_scope: FilterScope {
            vrids: vec![51, 52],
            v2: false,
            v3: true,
        },
        // The kernel's minimum: a few packets fill it.
        receive_buffer: Some(1),
        force_receive_buffer: false,
        ..multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V4)
    };
    let (sender, receiver) = pair.open_sockets(
        VrrpSocketV4::open,
        multicast(va, VrrpProtocol::Vrrp, VRRP_GROUP_V4),
        scoped,
    );
    assert_eq!(receiver.drops(), linux::vrrp_socket::KernelDrops::default());
    let source = Ipv4Addr::new(192, 0, 2, 1);
    let mut v2 = ipv4_advert(source, VRRP_GROUP_V4, 255, 51);
    v2[20] = 0x21;
    let mut truncated = ipv4_advert(source, VRRP_GROUP_V4, 255, 51);
    truncated.truncate(21);
    truncated[2..4].copy_from_slice(&21u16.to_be_bytes());
    let refused = [
        ipv4_advert(source, VRRP_GROUP_V4, 255, 53), // VRID not on the socket
        ipv4_advert(source, VRRP_GROUP_V4, 64, 51),  // TTL
        v2,                                          // version not run here
        truncated,                                   // no VRID byte
    ];
    for _ in 0..25 {
        for packet in &refused {
            sender.send(packet, VRRP_GROUP_V4).await.expect("send");
        }
    }
    let filtered = lab::wait_for("100 filtered packets counted", DEADLINE, POLL, || {
        let drops = receiver.drops();
        (drops.filtered >= 100).then_some(drops.filtered)
    })
    .expect("refused packets are counted");
    assert_eq!(filtered, 100, "each refused packet counted once");

    // Accepted adverts beyond the tiny receive buffer are counted as queue drops.
    for _ in 0..200 {
        sender
            .send(&ipv4_advert(source, VRRP_GROUP_V4, 255, 52), VRRP_GROUP_V4)
            .await
            .expect("send");
    }
    let mut buf = [0u8; 1500];
    let mut queued = 0u64;
    loop {
        match tokio::time::timeout(Duration::from_millis(300), receiver.recv(&mut buf)).await {
            Ok(Ok(got)) => {
                assert_eq!(buf[21], 52, "only VRID 52 adverts get through");
                assert_eq!(got.len, 32);
                queued += 1;
            }
            Ok(Err(e)) => panic!("recv: {e}"),
            Err(_) => break,
        }
    }
    let drops = receiver.drops();
    assert!(drops.queue_full > 0, "{drops:?}");
    assert_eq!(
        queued + drops.queue_full,
        200,
        "{drops:?}, {queued} received"
    );
    assert_eq!(drops.filtered, 100);
}

#[tokio::test(flavor = "current_thread")]
async fn ipv4_unicast_advert_reaches_bound_source() {
    if !can_run() {
        return;
    }
    let pair = Pair::new_v4();
    let (a_addr, b_addr) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let unicast = |ifr: IfRef, source: Ipv4Addr| SocketOptions {
        receive_buffer: Some(64 * 1024),
        force_receive_buffer: false,
        ..unicast(ifr, source)
    };
    let (sender, receiver) =
        pair.open_sockets(VrrpSocketV4::open, unicast(va, a_addr), unicast(vb, b_addr));

    // keepalived's default unicast TTL is 255 too, but any TTL passes unicast.
    sender
        .send(&ipv4_advert(a_addr, b_addr, 64, 9), b_addr)
        .await
        .expect("send");
    let mut buf = [0u8; 1500];
    let got = within("unicast advert in B", receiver.recv(&mut buf))
        .await
        .expect("recv");
    assert_eq!((got.source, got.dest, got.ttl), (a_addr, b_addr, 64));
    assert_eq!(buf[21], 9);
}

fn wait_link_local(ns: &Netns, dev: &str) -> Ipv6Addr {
    let what = format!("a link-local address on {dev}");
    lab::wait_for(&what, DEADLINE, POLL, || {
        let shown = ns.ip(&["-6", "-o", "addr", "show", "dev", dev, "scope", "link"]);
        if shown.contains("tentative") {
            return None;
        }
        let addr = shown
            .split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)?;
        Some(
            addr.split('/')
                .next()
                .unwrap_or_default()
                .parse()
                .expect("ipv6"),
        )
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "current_thread")]
async fn ipv6_multicast_advert_crosses_with_hop_limit_and_pktinfo() {
    if !can_run() {
        return;
    }
    let pair = Pair::new();
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let a_ll = wait_link_local(&pair.a, "va");
    wait_link_local(&pair.b, "vb");
    let vb_index = vb.index;
    let (sender, receiver) = pair.open_sockets(
        VrrpSocketV6::open,
        multicast(va, VrrpProtocol::Vrrp, VRRP_GROUP_V6),
        multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V6),
    );

    let advert = ipv6_advert(51);
    sender
        .send(&advert, a_ll, VRRP_GROUP_V6, None)
        .await
        .expect("send");
    let mut buf = [0u8; 1500];
    let got = within("IPv6 advert in B", receiver.recv(&mut buf))
        .await
        .expect("recv");
    assert_eq!(got.source, a_ll);
    assert_eq!(got.dest, Some(VRRP_GROUP_V6));
    assert_eq!(got.hop_limit, Some(255));
    assert_eq!(got.ifindex, Some(vb_index));
    assert_eq!(got.len, advert.len());
    assert_eq!(&buf[..4], &advert[..4]);
    // The kernel filled the checksum (and B's kernel verified it).
    assert_ne!(&buf[6..8], &[0, 0]);
}

/// recvmmsg: adverts queued before the read come out several per call, in
/// arrival order, never more than a batch, each with its own header; and every
/// one is counted as delivered (no phantom filter drops).
#[tokio::test(flavor = "current_thread")]
async fn ipv4_batch_receive_reads_queued_adverts_in_order() {
    if !can_run() {
        return;
    }
    let pair = Pair::new_v4();
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let (sender, receiver) = pair.open_sockets(
        VrrpSocketV4::open,
        multicast(va, VrrpProtocol::Vrrp, VRRP_GROUP_V4),
        multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V4),
    );
    let source = Ipv4Addr::new(192, 0, 2, 1);
    let sent: Vec<u8> = (1..=20).collect();
    for &vrid in &sent {
        sender
            .send(
                &ipv4_advert(source, VRRP_GROUP_V4, 255, vrid),
                VRRP_GROUP_V4,
            )
            .await
            .expect("send");
    }
    let mut batch = ReceiveBatch::<ReceivedV4>::new(1500);
    let mut got = Vec::new();
    let mut largest = 0;
    let watch = receiver.watch().expect("watch");
    while got.len() < sent.len() {
        within("batch in B", receiver.recv_batch(&watch, &mut batch))
            .await
            .expect("recv_batch");
        let mut count = 0;
        for packet in batch.packets() {
            let (data, meta) = packet.expect("whole IPv4 packet");
            assert_eq!(
                (meta.source, meta.dest, meta.ttl),
                (source, VRRP_GROUP_V4, 255)
            );
            assert_eq!(meta.len, 32);
            assert_eq!(data.len(), 32);
            assert_recent(meta.arrived);
            assert_eq!(&data[20..24], &[0x31, data[21], 100, 1]);
            got.push(data[21]);
            count += 1;
        }
        assert!((1..=RECEIVE_BATCH).contains(&count), "{count} packets");
        largest = largest.max(count);
    }
    assert_eq!(got, sent);
    assert!(largest > 1, "queued adverts must be read several at a time");
    assert_eq!(receiver.drops().filtered, 0);
    assert_eq!(receiver.drops().queue_full, 0);
}

/// recvmmsg on IPv6: each advert of a batch has its own hop limit, destination
/// and interface (IPV6_HOPLIMIT / IPV6_PKTINFO per message).
#[tokio::test(flavor = "current_thread")]
async fn ipv6_batch_receive_keeps_control_messages_per_advert() {
    if !can_run() {
        return;
    }
    let pair = Pair::new();
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let a_ll = wait_link_local(&pair.a, "va");
    wait_link_local(&pair.b, "vb");
    let vb_index = vb.index;
    let (sender, receiver) = pair.open_sockets(
        VrrpSocketV6::open,
        multicast(va, VrrpProtocol::Vrrp, VRRP_GROUP_V6),
        multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V6),
    );
    let sent: Vec<u8> = (1..=5).collect();
    for &vrid in &sent {
        sender
            .send(&ipv6_advert(vrid), a_ll, VRRP_GROUP_V6, None)
            .await
            .expect("send");
    }
    let mut batch = ReceiveBatch::<ReceivedV6>::new(1500);
    let mut got = Vec::new();
    let watch = receiver.watch().expect("watch");
    while got.len() < sent.len() {
        within("IPv6 batch in B", receiver.recv_batch(&watch, &mut batch))
            .await
            .expect("recv_batch");
        for packet in batch.packets() {
            let (data, meta) = packet.expect("IPv6 advert with control messages");
            assert_eq!(meta.source, a_ll);
            assert_eq!(meta.dest, Some(VRRP_GROUP_V6));
            assert_eq!(meta.hop_limit, Some(255));
            assert_eq!(meta.ifindex, Some(vb_index));
            assert_recent(meta.arrived);
            assert_eq!(data.len(), ipv6_advert(0).len());
            got.push(data[1]);
        }
    }
    assert_eq!(got, sent);
}

/// The kernel's arrival time of a packet just received: present, in the past, and
/// no older than the test.
fn assert_recent(arrived: Option<std::time::SystemTime>) {
    let arrived = arrived.expect("SO_TIMESTAMPNS arrival time");
    let age = std::time::SystemTime::now()
        .duration_since(arrived)
        .expect("arrival time in the past");
    assert!(age < Duration::from_secs(30), "arrived {age:?} ago");
}

/// Without a watch nothing wakes the reader, but the adverts queue: a non-blocking
/// read takes them, in order, each stamped with when it came (not when it is read),
/// and finds 0 once the queue is empty.
#[tokio::test(flavor = "current_thread")]
async fn unwatched_socket_queues_adverts_with_their_arrival_times() {
    if !can_run() {
        return;
    }
    let pair = Pair::new_v4();
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let (sender, receiver) = pair.open_sockets(
        VrrpSocketV4::open,
        multicast(va, VrrpProtocol::Vrrp, VRRP_GROUP_V4),
        multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V4),
    );
    let mut batch = ReceiveBatch::<ReceivedV4>::new(1500);
    assert_eq!(receiver.try_recv_batch(&mut batch).expect("empty read"), 0);
    let source = Ipv4Addr::new(192, 0, 2, 1);
    let before = std::time::SystemTime::now();
    for vrid in 1..=3 {
        sender
            .send(
                &ipv4_advert(source, VRRP_GROUP_V4, 255, vrid),
                VRRP_GROUP_V4,
            )
            .await
            .expect("send");
    }
    let sent_by = std::time::SystemTime::now();
    // The read comes well after the arrivals; their times must not move with it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while got.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "only {got:?} queued");
        std::thread::sleep(Duration::from_millis(50));
        receiver.try_recv_batch(&mut batch).expect("read");
        for packet in batch.packets() {
            let (data, meta) = packet.expect("whole IPv4 packet");
            let arrived = meta.arrived.expect("arrival time");
            assert!(
                // (veth delivers in the sender's softirq, by the time send returns.)
                arrived >= before && arrived <= sent_by + Duration::from_millis(10),
                "arrived {arrived:?} outside [{before:?}, {sent_by:?}]"
            );
            got.push(data[21]);
        }
    }
    assert_eq!(got, [1, 2, 3]);
    assert_eq!(receiver.try_recv_batch(&mut batch).expect("empty read"), 0);
    assert_eq!(receiver.drops().filtered, 0);
}

// ------------------------------------------------------------ GARP / NA

/// A packet socket in `ns` seeing every frame, with a short read timeout so
/// that the capture loop can check its deadline.
fn capture_socket(ns: &Netns) -> socket2::Socket {
    ns.enter(|| {
        let all = i32::from((libc::ETH_P_ALL as u16).to_be());
        let s = socket2::Socket::new(
            socket2::Domain::PACKET,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(all)),
        )
        .expect("packet socket");
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        s
    })
}

fn capture(socket: &socket2::Socket, what: &str, wanted: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    use std::io::Read;
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    loop {
        assert!(start.elapsed() < DEADLINE, "no {what} seen");
        let mut reader = socket;
        match reader.read(&mut buf) {
            Ok(n) => {
                let frame = &buf[..n];
                if wanted(frame) {
                    return frame.to_vec();
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("capture failed: {e}"),
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn garp_and_unsolicited_na_are_seen_on_the_peer() {
    if !can_run() {
        return;
    }
    let pair = Pair::new();
    let va = if_ref(&pair.a, "va");
    let va_mac = pair.a.mac_of("va");
    let tap = capture_socket(&pair.b);
    let sender = pair.a.enter(|| GarpSender::new().expect("garp sender"));

    let vip4 = Ipv4Addr::new(192, 0, 2, 100);
    sender
        .send_garp(va.index, va_mac, vip4)
        .await
        .expect("send garp");
    let garp = capture(&tap, "gratuitous ARP", |f| {
        f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[28..32] == vip4.octets()
    });
    assert_eq!(&garp[0..6], &[0xff; 6]);
    assert_eq!(&garp[6..12], &va_mac.0);
    assert_eq!(&garp[20..22], &[0, 1], "ARP request");
    assert_eq!(&garp[22..28], &va_mac.0);
    assert_eq!(&garp[38..42], &vip4.octets());

    // A VMAC-style source MAC goes out as given.
    let vmac = MacAddr::vrrp(51, true);
    let vip6: Ipv6Addr = "2001:db8::100".parse().expect("literal");
    sender
        .send_unsolicited_na(va.index, vmac, vip6, true)
        .await
        .expect("send na");
    let na = capture(&tap, "neighbour advertisement", |f| {
        f.len() >= 86
            && f[12..14] == [0x86, 0xdd]
            && f[20] == 58
            && f[54] == 136
            && f[62..78] == vip6.octets()
    });
    assert_eq!(&na[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
    assert_eq!(&na[6..12], &vmac.0);
    assert_eq!(na[21], 255, "hop limit");
    assert_eq!(na[58], 0xa0, "router + override");
    assert_eq!(&na[78..86], &[2, 1, 0, 0, 0x5e, 0, 2, 51]);

    // The Router flag source: per-interface IPv6 forwarding.
    let forwarding = pair.a.run(|| async {
        let before = linux::garp::ipv6_forwarding("va").expect("read");
        std::fs::write("/proc/sys/net/ipv6/conf/va/forwarding", "1").expect("write");
        (before, linux::garp::ipv6_forwarding("va").expect("read"))
    });
    assert_eq!(forwarding, (false, true));
}

// ------------------------------------------------------------- more cases

#[tokio::test(flavor = "current_thread")]
async fn ipv6_vmac_has_no_autoconf_and_parent_derived_link_local() {
    if !can_run() {
        return;
    }
    let ns = Netns::new();
    ns.local_veth("eth0", &[]);
    let eth0 = if_ref(&ns, "eth0");
    let eth0_mac = ns.mac_of("eth0");
    let spec = VmacSpec::new(eth0, 52, true);
    let vmac = ns.run(move || async move {
        let nl = Netlink::new().expect("netlink");
        let mut sysctls = SysctlChanges::new();
        let vmac = nl
            .create_vmac(&spec, &mut sysctls)
            .await
            .expect("create vmac");
        sysctls.restore().expect("restore");
        vmac
    });
    assert_eq!(vmac.link.name, "vrrp.52");
    assert_eq!(vmac.link.mac, Some(MacAddr([0, 0, 0x5e, 0, 2, 52])));
    let details = ns.ip(&["-d", "link", "show", "vrrp.52"]);
    assert!(details.contains("addrgenmode none"), "{details}");
    let addrs = ns.ip(&["-6", "addr", "show", "dev", "vrrp.52"]);
    let expected = linux::link::link_local_from_mac(eth0_mac);
    assert!(addrs.contains(&format!("{expected}/64")), "{addrs}");
    // No address derived from the shared virtual MAC.
    assert!(!addrs.contains("fe80::200:5eff:fe00:234"), "{addrs}");
}

#[tokio::test(flavor = "current_thread")]
async fn all_rp_filter_is_lowered_and_restored() {
    if !can_run() {
        return;
    }
    let ns = Netns::new();
    ns.local_veth("eth0", &[]);
    ns.exec(&[
        "sh",
        "-c",
        "echo 2 > /proc/sys/net/ipv4/conf/all/rp_filter; echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter; \
         echo 0 > /proc/sys/net/ipv4/conf/eth0/rp_filter; echo 1 > /proc/sys/net/ipv4/conf/eth0p/rp_filter",
    ]);
    let mut sysctls = ns.run(|| async {
        let mut sysctls = SysctlChanges::new();
        linux::link::lower_all_rp_filter(&mut sysctls).expect("lower");
        sysctls
    });
    assert_eq!(ns.read_sysctl("net/ipv4/conf/all/rp_filter"), "0");
    // The effective value of each interface (max of all and its own) is kept.
    assert_eq!(ns.read_sysctl("net/ipv4/conf/default/rp_filter"), "2");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/eth0/rp_filter"), "2");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/eth0p/rp_filter"), "2");
    ns.run(move || async move { sysctls.restore().expect("restore") });
    assert_eq!(ns.read_sysctl("net/ipv4/conf/all/rp_filter"), "2");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/default/rp_filter"), "0");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/eth0/rp_filter"), "0");
    assert_eq!(ns.read_sysctl("net/ipv4/conf/eth0p/rp_filter"), "1");
}

#[tokio::test(flavor = "current_thread")]
async fn ipv6_unicast_advert_carries_configured_hop_limit() {
    if !can_run() {
        return;
    }
    let pair = Pair::new();
    pair.a
        .ip(&["addr", "add", "2001:db8::1/64", "dev", "va", "nodad"]);
    pair.b
        .ip(&["addr", "add", "2001:db8::2/64", "dev", "vb", "nodad"]);
    let a_addr: Ipv6Addr = "2001:db8::1".parse().expect("literal");
    let b_addr: Ipv6Addr = "2001:db8::2".parse().expect("literal");
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let (sender, receiver) =
        pair.open_sockets(VrrpSocketV6::open, unicast(va, a_addr), unicast(vb, b_addr));

    let advert = ipv6_advert(60);
    sender
        .send(&advert, a_addr, b_addr, Some(64))
        .await
        .expect("send");
    let mut buf = [0u8; 1500];
    let got = within("unicast IPv6 advert in B", receiver.recv(&mut buf))
        .await
        .expect("recv");
    assert_eq!(
        (got.source, got.dest, got.hop_limit),
        (a_addr, Some(b_addr), Some(64))
    );
    assert_eq!(buf[1], 60);
}

#[tokio::test(flavor = "current_thread")]
async fn ah_protocol_socket_carries_protocol_51() {
    if !can_run() {
        return;
    }
    let pair = Pair::new_v4();
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let (sender, receiver) = pair.open_sockets(
        VrrpSocketV4::open,
        multicast(va, VrrpProtocol::Ah, VRRP_GROUP_V4),
        multicast(vb, VrrpProtocol::Ah, VRRP_GROUP_V4),
    );

    let source = Ipv4Addr::new(192, 0, 2, 1);
    // IP header (protocol 51), a 24-byte AH header announcing VRRP (112), then a
    // VRRPv2 advert: the filter checks AH's next header and looks behind it.
    let advert = ipv4_advert(source, VRRP_GROUP_V4, 255, 51);
    let mut packet = advert[..20].to_vec();
    packet[9] = 51;
    let mut ah = [0u8; 24];
    ah[0] = 112;
    packet.extend_from_slice(&ah);
    packet.extend_from_slice(&advert[20..]);
    packet[44] = 0x21;
    let total = u16::try_from(packet.len()).expect("small");
    packet[2..4].copy_from_slice(&total.to_be_bytes());
    // Not VRRP behind AH: refused in the kernel (and counted).
    let mut not_vrrp = packet.clone();
    not_vrrp[20] = 6;
    sender.send(&not_vrrp, VRRP_GROUP_V4).await.expect("send");
    sender.send(&packet, VRRP_GROUP_V4).await.expect("send");
    let mut buf = [0u8; 1500];
    let got = within("AH packet in B", receiver.recv(&mut buf))
        .await
        .expect("recv");
    assert_eq!((got.source, got.ttl), (source, 255));
    assert_eq!(buf[9], 51);
    assert_eq!(
        buf[20], 112,
        "the non-VRRP AH packet sent first was filtered"
    );
    assert_eq!(receiver.drops().filtered, 1);
}

// ------------------------------------------- codec ↔ sockets end to end

mod codec {
    use super::*;
    use vrrp::advert::{Advert, Version};
    use vrrp::packet::{
        Auth, Family, Ipv4EncodeOptions, Ipv6EncodeOptions, decode_ipv4, decode_vrrp, encode_ipv4,
        encode_vrrp_ipv6,
    };

    async fn v4_roundtrip(
        protocol: VrrpProtocol,
        advert: Advert,
        options: Ipv4EncodeOptions,
    ) -> vrrp::packet::DecodedIpv4 {
        let pair = Pair::new_v4();
        let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
        let (sender, receiver) = pair.open_sockets(
            VrrpSocketV4::open,
            multicast(va, protocol, VRRP_GROUP_V4),
            multicast(vb, protocol, VRRP_GROUP_V4),
        );

        let packet = encode_ipv4(&advert, &options).expect("encode");
        sender
            .send(&packet, options.destination)
            .await
            .expect("send");
        let mut buf = [0u8; 1500];
        let got = within("codec advert in B", receiver.recv(&mut buf))
            .await
            .expect("recv");
        assert_eq!(got.ttl, 255);
        let bytes = buf.get(..got.len).expect("within buffer");
        let decoded = decode_ipv4(bytes).expect("decodes");
        assert_eq!(decoded.vrrp.to_advert(IpAddr::V4(got.source)), Some(advert));
        decoded
    }

    #[tokio::test(flavor = "current_thread")]
    async fn codec_ipv4_v3_advert_roundtrips() {
        if !can_run() {
            return;
        }
        let advert = Advert {
            version: Version::V3,
            vrid: 51,
            priority: 150,
            interval_cs: 100,
            addresses: vec![
                "192.0.2.100".parse().expect("literal"),
                "192.0.2.101".parse().expect("literal"),
            ],
            source: "192.0.2.1".parse().expect("literal"),
        };
        let decoded =
            v4_roundtrip(VrrpProtocol::Vrrp, advert, Ipv4EncodeOptions::multicast(7)).await;
        assert_eq!(decoded.ip.id, 7, "HDRINCL keeps the codec's IP id");
        assert!(decoded.ah.is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn codec_ipv4_v2_ah_advert_roundtrips() {
        if !can_run() {
            return;
        }
        let advert = Advert {
            version: Version::V2,
            vrid: 9,
            priority: 100,
            interval_cs: 100,
            addresses: vec!["192.0.2.50".parse().expect("literal")],
            source: "192.0.2.1".parse().expect("literal"),
        };
        let options = Ipv4EncodeOptions {
            auth: Auth::Ah {
                key: *b"secret\0\0",
            },
            ..Ipv4EncodeOptions::multicast(3)
        };
        let decoded = v4_roundtrip(VrrpProtocol::Ah, advert, options).await;
        assert!(decoded.ah.is_some());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn codec_ipv6_v3_advert_roundtrips() {
        if !can_run() {
            return;
        }
        let pair = Pair::new();
        let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
        let a_ll = wait_link_local(&pair.a, "va");
        wait_link_local(&pair.b, "vb");
        let (sender, receiver) = pair.open_sockets(
            VrrpSocketV6::open,
            multicast(va, VrrpProtocol::Vrrp, VRRP_GROUP_V6),
            multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V6),
        );

        let advert = Advert {
            version: Version::V3,
            vrid: 61,
            priority: 200,
            interval_cs: 50,
            addresses: vec!["2001:db8::61".parse().expect("literal")],
            source: IpAddr::V6(a_ll),
        };
        let payload = encode_vrrp_ipv6(
            &advert,
            &Ipv6EncodeOptions {
                destination: VRRP_GROUP_V6,
                auth: Auth::None,
            },
        )
        .expect("encode");
        sender
            .send(&payload, a_ll, VRRP_GROUP_V6, None)
            .await
            .expect("send");
        let mut buf = [0u8; 1500];
        let got = within("codec IPv6 advert in B", receiver.recv(&mut buf))
            .await
            .expect("recv");
        assert_eq!(got.hop_limit, Some(255));
        let bytes = buf.get(..got.len).expect("within buffer");
        // The codec's checksum and the kernel's (IPV6_CHECKSUM) agree.
        assert_eq!(bytes, payload.as_slice());
        let message = decode_vrrp(bytes, Family::Ipv6).expect("decodes");
        assert_eq!(message.to_advert(IpAddr::V6(got.source)), Some(advert));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn ipv6_filter_drops_hop_limit_below_255() {
    use vrrp::advert::{Advert, Version};
    use vrrp::packet::{Auth, Ipv6EncodeOptions, encode_vrrp_ipv6};
    if !can_run() {
        return;
    }
    let pair = Pair::new();
    let (va, vb) = (if_ref(&pair.a, "va"), if_ref(&pair.b, "vb"));
    let a_ll = wait_link_local(&pair.a, "va");
    wait_link_local(&pair.b, "vb");
    let opts_b = multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V6);
    let opts_a = multicast(va.clone(), VrrpProtocol::Vrrp, VRRP_GROUP_V6);
    let receiver = pair
        .b
        .enter(move || VrrpSocketV6::open(&opts_b).expect("open B"));
    let sender = pair
        .a
        .enter(move || VrrpSocketV6::open(&opts_a).expect("open A"));
    // A plain raw socket sending with hop limit 254, a correct checksum
    // (from the codec) so that only the hop limit can get it dropped.
    let va_name = va.name.clone();
    let rogue = pair.a.enter(move || {
        let s = socket2::Socket::new(
            socket2::Domain::IPV6,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(112)),
        )
        .expect("raw socket");
        s.bind_device(Some(va_name.as_bytes()))
            .expect("bind device");
        s.set_multicast_if_v6(va.index).expect("multicast if");
        s.set_multicast_hops_v6(254).expect("hops");
        s
    });
    let advert = |vrid| Advert {
        version: Version::V3,
        vrid,
        priority: 100,
        interval_cs: 100,
        addresses: vec!["2001:db8::7".parse().expect("literal")],
        source: IpAddr::V6(a_ll),
    };
    let options = Ipv6EncodeOptions {
        destination: VRRP_GROUP_V6,
        auth: Auth::None,
    };
    let bad = encode_vrrp_ipv6(&advert(7), &options).expect("encode");
    let good = encode_vrrp_ipv6(&advert(51), &options).expect("encode");
    let group = socket2::SockAddr::from(std::net::SocketAddrV6::new(
        VRRP_GROUP_V6,
        0,
        0,
        if_ref(&pair.a, "va").index,
    ));
    rogue.send_to(&bad, &group).expect("send hop 254");
    sender
        .send(&good, a_ll, VRRP_GROUP_V6, None)
        .await
        .expect("send hop 255");
    let mut buf = [0u8; 1500];
    let got = within("IPv6 advert in B", receiver.recv(&mut buf))
        .await
        .expect("recv");
    assert_eq!(got.hop_limit, Some(255));
    assert_eq!(
        buf[1], 51,
        "the hop-limit-254 advert (VRID 7) must not get through"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn garp_from_vmac_leaves_with_the_virtual_mac() {
    if !can_run() {
        return;
    }
    let pair = Pair::new();
    let va = if_ref(&pair.a, "va");
    let spec = VmacSpec::new(va, 51, false);
    let vmac = pair.a.run(move || async move {
        let nl = Netlink::new().expect("netlink");
        let mut sysctls = SysctlChanges::new();
        nl.create_vmac(&spec, &mut sysctls)
            .await
            .expect("create vmac")
            .link
    });
    let tap = capture_socket(&pair.b);
    let sender = pair.a.enter(|| GarpSender::new().expect("garp sender"));
    let vip = Ipv4Addr::new(192, 0, 2, 51);
    let vmac_mac = vmac.mac.expect("VMAC has a MAC");
    assert_eq!(vmac_mac, MacAddr::vrrp(51, false));
    // keepalived sends on the address's interface: the VMAC itself.
    sender
        .send_garp(vmac.index, vmac_mac, vip)
        .await
        .expect("send garp");
    let garp = capture(&tap, "gratuitous ARP from the VMAC", |f| {
        f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[28..32] == vip.octets()
    });
    assert_eq!(&garp[6..12], &vmac_mac.0);
    assert_eq!(&garp[22..28], &vmac_mac.0);
}

// ------------------------------------------------ keepalived as the oracle

/// A keepalived 2.2.7 (Debian's) running in a namespace; stopped on drop.
struct Keepalived {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Keepalived {
    /// `None` (with a message) when the binary is not installed.
    fn start(ns: &Netns, config: &str) -> Option<Self> {
        if Command::new("keepalived")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipping: keepalived is not installed");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("{}-keepalived", ns.name));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, config).expect("write config");
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                "keepalived",
                "-n",
                "-l",
                "-G",
                "-P",
            ])
            .args([
                "-f",
                &path("keepalived.conf"),
                "-p",
                &path("k.pid"),
                "-r",
                &path("v.pid"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn keepalived");
        Some(Self { child, dir })
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        // SIGTERM lets the parent stop its VRRP child; wait for that, with
        // a deadline, before the namespace goes.
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let child = &mut self.child;
        let exited = lab::wait_for("keepalived to stop", DEADLINE, POLL, || {
            child.try_wait().ok().flatten()
        });
        if exited.is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn frames_match_real_keepalived_and_its_adverts_are_received() {
    if !can_run() {
        return;
    }
    let pair = Pair::new_v4();
    wait_link_local(&pair.a, "va");
    wait_link_local(&pair.b, "vb");
    let va_mac = pair.a.mac_of("va");
    let vb = if_ref(&pair.b, "vb");
    let tap = capture_socket(&pair.b);
    let opts_b = multicast(vb, VrrpProtocol::Vrrp, VRRP_GROUP_V4);
    let receiver = pair
        .b
        .enter(move || VrrpSocketV4::open(&opts_b).expect("open B"));

    let config = "\
global_defs {
    vrrp_version 3
    vrrp_garp_master_delay 0
}
vrrp_instance V4 {
    state MASTER
    interface va
    virtual_router_id 51
    priority 200
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.51/32
    }
}
vrrp_instance V6 {
    state MASTER
    interface va
    virtual_router_id 52
    priority 200
    advert_int 0.1
    virtual_ipaddress {
        2001:db8::52/128
    }
}
";
    let Some(_keepalived) = Keepalived::start(&pair.a, config) else {
        return;
    };

    // Its adverts reach our socket with TTL 255 from A's address.
    let mut buf = [0u8; 1500];
    let got = within("keepalived's advert", receiver.recv(&mut buf))
        .await
        .expect("recv");
    assert_eq!(
        (got.source, got.dest, got.ttl),
        (Ipv4Addr::new(192, 0, 2, 1), VRRP_GROUP_V4, 255)
    );
    let decoded =
        vrrp::packet::decode_ipv4(buf.get(..got.len).expect("in buffer")).expect("decodes");
    assert!(matches!(decoded.vrrp.header.vrid, 51 | 52));

    // Its GARP and NA are byte for byte what we build.
    let vip4 = Ipv4Addr::new(192, 0, 2, 51);
    let garp = capture(&tap, "keepalived's GARP", |f| {
        f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[28..32] == vip4.octets()
    });
    assert_eq!(
        garp.as_slice(),
        linux::garp::gratuitous_arp_frame(va_mac, vip4).as_slice()
    );

    let vip6: Ipv6Addr = "2001:db8::52".parse().expect("literal");
    let na = capture(&tap, "keepalived's NA", |f| {
        f.len() >= 86
            && f[12..14] == [0x86, 0xdd]
            && f[20] == 58
            && f[54] == 136
            && f[62..78] == vip6.octets()
    });
    // Forwarding is off in the namespace, so no Router flag.
    assert_eq!(
        na.as_slice(),
        linux::garp::unsolicited_na_frame(va_mac, vip6, false).as_slice()
    );

    // The VIPs it added carry the flags and lifetimes ours get by default.
    let theirs4 = addr_line(&pair.a, "va", "192.0.2.51/32");
    let theirs6 = addr_line(&pair.a, "va", "2001:db8::52/128");
    assert!(
        theirs6.contains("nodad") && theirs6.contains("preferred_lft 0sec"),
        "{theirs6}"
    );
    let ns = Netns::new();
    ns.local_veth("va", &[]);
    let index = ns.read_iface_index("va");
    let nl = ns.netlink();
    nl.add_address(&AddressSpec::new(index, IpAddr::V4(vip4), 32))
        .await
        .expect("add v4");
    nl.add_address(&AddressSpec::new(index, IpAddr::V6(vip6), 128))
        .await
        .expect("add v6");
    assert_eq!(addr_line(&ns, "va", "192.0.2.51/32"), theirs4);
    assert_eq!(addr_line(&ns, "va", "2001:db8::52/128"), theirs6);
}

/// `ip -o addr` for one address, from the family keyword on, without the
/// interface index and name that differ between namespaces.
fn addr_line(ns: &Netns, dev: &str, addr: &str) -> String {
    let shown = ns.ip(&["-o", "addr", "show", "dev", dev]);
    let line = shown
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == addr))
        .unwrap_or_else(|| panic!("{addr} not on {dev}: {shown}"));
    let words: Vec<&str> = line
        .split_whitespace()
        .skip(2)
        .map(|w| w.trim_end_matches('\\'))
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

#[tokio::test(flavor = "current_thread")]
async fn vmacs_match_the_ones_keepalived_makes() {
    if !can_run() {
        return;
    }
    let config = "\
global_defs {
    vrrp_version 3
}
vrrp_instance V4 {
    state BACKUP
    interface va
    use_vmac
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.51/32
    }
}
vrrp_instance V6 {
    state BACKUP
    interface va
    use_vmac
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress {
        2001:db8::52/128
    }
}
";
    let theirs = Netns::new();
    theirs.local_veth("va", &[]);
    let ours = Netns::new();
    ours.local_veth("va", &[]);
    let Some(_keepalived) = Keepalived::start(&theirs, config) else {
        return;
    };

    let va = if_ref(&ours, "va");
    let specs = [
        VmacSpec::new(va.clone(), 51, false),
        VmacSpec::new(va, 52, true),
    ];
    ours.run(move || async move {
        let nl = Netlink::new().expect("netlink");
        let mut sysctls = SysctlChanges::new();
        for spec in &specs {
            nl.create_vmac(spec, &mut sysctls)
                .await
                .expect("create vmac");
        }
    });

    // keepalived makes them at start-up; wait for the IPv6 one's address,
    // its last step.
    lab::wait_for("keepalived's VMACs", DEADLINE, POLL, || {
        theirs
            .ip(&["-6", "-o", "addr", "show"])
            .contains("vrrp.52")
            .then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}"));

    let link_summary = |ns: &Netns, dev: &str| {
        let details = ns.ip(&["-d", "link", "show", dev]);
        let words: Vec<&str> = details.split_whitespace().collect();
        let after = |key: &str, skip: usize| {
            let at = words
                .iter()
                .position(|w| *w == key)
                .unwrap_or_else(|| panic!("no {key} in {details}"));
            words.get(at + skip).copied().unwrap_or_default().to_owned()
        };
        let up = details.contains(",UP") || details.contains("<UP");
        let ipv6_off = ns.read_sysctl(&format!("net/ipv6/conf/{dev}/disable_ipv6"));
        // MAC, macvlan mode, addrgenmode, up, IPv6 disabled.
        (
            after("link/ether", 1),
            after("macvlan", 2),
            after("addrgenmode", 1),
            up,
            ipv6_off,
        )
    };
    for dev in ["vrrp.51", "vrrp.52"] {
        assert_eq!(
            link_summary(&ours, dev),
            link_summary(&theirs, dev),
            "{dev}"
        );
        for param in [
            "arp_ignore",
            "accept_local",
            "rp_filter",
            "promote_secondaries",
        ] {
            let path = format!("net/ipv4/conf/{dev}/{param}");
            assert_eq!(ours.read_sysctl(&path), theirs.read_sysctl(&path), "{path}");
        }
    }
    for param in ["arp_ignore", "arp_filter"] {
        let path = format!("net/ipv4/conf/va/{param}");
        assert_eq!(ours.read_sysctl(&path), theirs.read_sysctl(&path), "{path}");
    }
    // The IPv6 VMAC's only address: the parent's EUI-64 link-local. The MACs
    // of the two namespaces' `va` differ, so compare flags, not addresses.
    let v6_addrs = |ns: &Netns| {
        let shown = ns.ip(&["-6", "-o", "addr", "show", "dev", "vrrp.52"]);
        let parent = ns.mac_of("va");
        let expected = format!("{}/64", linux::link::link_local_from_mac(parent));
        let lines: Vec<String> = shown.lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 1, "{shown}");
        assert!(shown.contains(&expected), "{shown}");
        addr_line(ns, "vrrp.52", &expected).replace(&expected, "LL")
    };
    assert_eq!(v6_addrs(&ours), v6_addrs(&theirs));
}
