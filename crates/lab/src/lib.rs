//! Test support for keepalived-rs: small network labs in namespaces.
//!
//! A [`Lab`] owns everything it creates — network namespaces, bridges, veth pairs and
//! the processes it starts — and removes all of it when dropped, also when a test
//! panics. Names carry a per-lab unique prefix so parallel tests never collide, and
//! nothing is created in the root namespace.
//!
//! ```text
//!   netns <p>hub:  bridge br0 (one per segment, mcast_snooping 0)
//!                    |  <p>a0        |  <p>b0         (veth, hub side)
//!   netns <p>a: eth0 192.0.2.11/24   netns <p>b: eth0 192.0.2.12/24
//! ```
//!
//! Waiting is done with [`wait_for`]: poll a condition until a deadline, never sleep
//! and hope.

pub mod flood;
pub mod ipvs_vm;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Errors from building or driving a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("`{command}` failed: {stderr}")]
    Command { command: String, stderr: String },
    #[error("could not run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no such node `{0}`")]
    NoSuchNode(String),
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
}

/// Whether this process runs as root (namespace tests need it).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Whether a program is on PATH.
pub fn have_program(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(name).is_file()))
        .unwrap_or(false)
}

/// Polls `condition` every `interval` until it returns `Some`, or fails after `timeout`.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut condition: impl FnMut() -> Option<T>,
) -> Result<T, LabError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = condition() {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(LabError::Timeout(timeout, what.to_string()));
        }
        std::thread::sleep(interval);
    }
}

fn run(program: &str, args: &[&str]) -> Result<Output, LabError> {
    let command = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| LabError::Spawn {
            command: command.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(LabError::Command {
            command,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

fn ip(args: &[&str]) -> Result<Output, LabError> {
    run("ip", args)
}

/// A node of the lab: one network namespace.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub netns: String,
    /// Per-node scratch directory (configs, logs, pid files), removed with the lab.
    pub dir: PathBuf,
}

/// A started process, killed when the lab is dropped.
#[derive(Debug)]
pub struct Process {
    pub node: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Process {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal to the process.
    pub fn signal(&self, signal: i32) -> Result<(), LabError> {
        let pid = self.child.id().to_string();
        run("kill", &[&format!("-{signal}"), &pid]).map(|_| ())
    }

    /// Whether it has exited (reaps it if so).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

static LAB_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A set of namespaces on shared bridges, torn down on drop.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    hub: String,
    segments: u32,
    nodes: Vec<Node>,
    processes: Vec<Process>,
    dir: PathBuf,
}

impl Lab {
    /// Creates the hub namespace with `segments` bridges (br0, br1, ...). `tag` is a short
    /// word naming the test (kept short: interface names are limited to 15 bytes).
    pub fn new(tag: &str, segments: u32) -> Result<Lab, LabError> {
        let n = LAB_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tag: String = tag
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(4)
            .collect();
        let prefix = format!("k{tag}{}{n}", std::process::id() % 100_000);
        let dir = std::env::temp_dir().join(format!("kars-lab-{prefix}"));
        std::fs::create_dir_all(&dir).map_err(|source| LabError::Spawn {
            command: format!("mkdir {}", dir.display()),
            source,
        })?;
        let hub = format!("{prefix}h");
        let mut lab = Lab {
            prefix,
            hub: hub.clone(),
            segments,
            nodes: Vec::new(),
            processes: Vec::new(),
            dir,
        };
        ip(&["netns", "add", &hub])?;
        ip(&["-n", &hub, "link", "set", "lo", "up"])?;
        for s in 0..segments {
            let br = format!("br{s}");
            ip(&[
                "-n",
                &hub,
                "link",
                "add",
                &br,
                "type",
                "bridge",
                "mcast_snooping",
                "0",
            ])?;
            ip(&["-n", &hub, "link", "set", &br, "up"])?;
        }
        // Keep `lab` alive in the error paths above: dropping it cleans up.
        lab.segments = segments;
        Ok(lab)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Adds a node with one interface `eth<s>` per segment. `addresses[s]` lists the
    /// addresses (with prefix, e.g. "192.0.2.11/24" or "2001:db8::11/64") for `eth<s>`.
    /// IPv6 duplicate address detection is off so addresses work at once.
    pub fn add_node(&mut self, name: &str, addresses: &[&[&str]]) -> Result<Node, LabError> {
        let netns = format!("{}{}", self.prefix, name);
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).map_err(|source| LabError::Spawn {
            command: format!("mkdir {}", dir.display()),
            source,
        })?;
        ip(&["netns", "add", &netns])?;
        let node = Node {
            name: name.to_string(),
            netns: netns.clone(),
            dir,
        };
        self.nodes.push(node.clone());
        ip(&["-n", &netns, "link", "set", "lo", "up"])?;
        for s in ["all", "default"] {
            sysctl(&netns, &format!("net.ipv6.conf.{s}.accept_dad"), "0")?;
        }
        for s in 0..self.segments {
            let hub_side = format!("{}{}{s}", self.prefix, name);
            let ifname = format!("eth{s}");
            ip(&[
                "-n", &self.hub, "link", "add", &hub_side, "type", "veth", "peer", "name", &ifname,
                "netns", &netns,
            ])?;
            ip(&[
                "-n",
                &self.hub,
                "link",
                "set",
                &hub_side,
                "master",
                &format!("br{s}"),
            ])?;
            ip(&["-n", &self.hub, "link", "set", &hub_side, "up"])?;
            for addr in addresses
                .get(usize::try_from(s).unwrap_or(usize::MAX))
                .copied()
                .unwrap_or(&[])
            {
                let mut args = vec![
                    "-n",
                    netns.as_str(),
                    "addr",
                    "add",
                    addr,
                    "dev",
                    ifname.as_str(),
                ];
                if addr.contains(':') {
                    args.push("nodad");
                }
                ip(&args)?;
            }
            ip(&["-n", &netns, "link", "set", &ifname, "up"])?;
        }
        Ok(node)
    }

    pub fn node(&self, name: &str) -> Result<&Node, LabError> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| LabError::NoSuchNode(name.to_string()))
    }

    /// Runs a command to completion inside a node; fails on a non-zero exit.
    pub fn exec(&self, node: &str, argv: &[&str]) -> Result<Output, LabError> {
        let netns = self.node(node)?.netns.clone();
        let mut args = vec!["netns", "exec", netns.as_str()];
        args.extend_from_slice(argv);
        ip(&args)
    }

    /// Runs a command inside a node and returns its output whatever its exit status.
    pub fn exec_unchecked(&self, node: &str, argv: &[&str]) -> Result<Output, LabError> {
        let netns = self.node(node)?.netns.clone();
        Command::new("ip")
            .args(["netns", "exec", &netns])
            .args(argv)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| LabError::Spawn {
                command: argv.join(" "),
                source,
            })
    }

    /// Starts a long-running command inside a node, stdout+stderr to `<node dir>/<log>`.
    /// Returns its index for [`Lab::process`].
    pub fn spawn(&mut self, node: &str, log: &str, argv: &[&str]) -> Result<usize, LabError> {
        let n = self.node(node)?.clone();
        let log_path = n.dir.join(log);
        let open = |p: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|source| LabError::Spawn {
                    command: format!("open {}", p.display()),
                    source,
                })
        };
        let out = open(&log_path)?;
        let err = open(&log_path)?;
        let child = Command::new("ip")
            .args(["netns", "exec", &n.netns])
            .args(argv)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| LabError::Spawn {
                command: argv.join(" "),
                source,
            })?;
        self.processes.push(Process {
            node: node.to_string(),
            child,
            log: log_path,
        });
        Ok(self.processes.len() - 1)
    }

    pub fn process(&mut self, index: usize) -> Option<&mut Process> {
        self.processes.get_mut(index)
    }

    /// The IP addresses currently on `ifname` in a node (as `ip -o addr` prints them,
    /// e.g. "192.0.2.100/24").
    pub fn addresses(&self, node: &str, ifname: &str) -> Result<Vec<String>, LabError> {
        let out = self.exec(node, &["ip", "-o", "addr", "show", "dev", ifname])?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                words.find(|w| *w == "inet" || *w == "inet6")?;
                words.next().map(str::to_string)
            })
            .collect())
    }

    /// Sets an interface of a node down or up.
    pub fn set_link(&self, node: &str, ifname: &str, up: bool) -> Result<(), LabError> {
        let netns = self.node(node)?.netns.clone();
        ip(&[
            "-n",
            &netns,
            "link",
            "set",
            ifname,
            if up { "up" } else { "down" },
        ])
        .map(|_| ())
    }
}

impl Lab {
    /// The hub namespace's name (holds the bridges and the node-side ports' peers).
    pub fn hub(&self) -> &str {
        &self.hub
    }

    /// Detaches (`attached == false`) a node's port of `segment` from its bridge in
    /// the hub, or attaches it again. The veth keeps its carrier, so the node sees a
    /// silent network (a split brain), not a link failure. (Bridge port STP states
    /// cannot be set while STP is off, hence the detach.)
    pub fn set_hub_port(&self, node: &str, segment: u32, attached: bool) -> Result<(), LabError> {
        let node = self.node(node)?;
        let port = format!("{}{}{segment}", self.prefix, node.name);
        let bridge = format!("br{segment}");
        let mut args = vec!["-n", self.hub.as_str(), "link", "set", port.as_str()];
        if attached {
            args.extend_from_slice(&["master", bridge.as_str()]);
        } else {
            args.push("nomaster");
        }
        ip(&args).map(|_| ())
    }
}

fn sysctl(netns: &str, key: &str, value: &str) -> Result<(), LabError> {
    run(
        "ip",
        &[
            "netns",
            "exec",
            netns,
            "sysctl",
            "-q",
            "-w",
            &format!("{key}={value}"),
        ],
    )
    .map(|_| ())
}

impl Drop for Lab {
    fn drop(&mut self) {
        for p in &mut self.processes {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        // Anything else still running in our namespaces (e.g. a daemon that forked).
        for ns in self
            .nodes
            .iter()
            .map(|n| n.netns.clone())
            .chain([self.hub.clone()])
        {
            if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
