//! Facts about the host that validation needs (keepalived checks them while loading:
//! interfaces exist, script users exist, scripts are secure). Behind a trait so tests
//! can describe a host without touching the real one.

use std::path::Path;

/// What validation may ask about the host.
pub trait System {
    /// Whether a network interface with this name exists (in our network namespace).
    fn interface_exists(&self, name: &str) -> bool;
    /// The numeric uid/gid of a user, if it exists.
    fn user(&self, name: &str) -> Option<(u32, u32)>;
    /// The numeric gid of a group, if it exists.
    fn group(&self, name: &str) -> Option<u32>;
    /// The host name (for `router_id` and the default config id).
    fn hostname(&self) -> String;
    /// Metadata of a path (follows symlinks), for script checks.
    fn metadata(&self, path: &Path) -> Option<std::fs::Metadata> {
        std::fs::metadata(path).ok()
    }
    /// Metadata of a path itself (does not follow a final symlink), for script checks.
    fn symlink_metadata(&self, path: &Path) -> Option<std::fs::Metadata> {
        std::fs::symlink_metadata(path).ok()
    }
    /// The absolute path with symlinks, `.` and `..` resolved (C `realpath()`).
    fn canonicalize(&self, path: &Path) -> Option<std::path::PathBuf> {
        std::fs::canonicalize(path).ok()
    }
    /// The PATH searched for bare script names (keepalived: `$PATH`, else the libc default).
    fn path_env(&self) -> String {
        std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".to_string())
    }
    /// Real uid and gid of the process loading the configuration (keepalived's
    /// `our_uid`/`our_gid`: the default script user when keepalived_script is absent).
    fn process_ids(&self) -> (u32, u32) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let first_id = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (first_id("Uid:"), first_id("Gid:"))
    }
    /// Whether the named network namespace can be entered (keepalived opens
    /// `/run/netns/NAME` for `net_namespace`).
    fn net_namespace_exists(&self, name: &str) -> bool {
        Path::new(&format!("/run/netns/{name}")).exists()
    }
}

/// The real host.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostSystem;

impl System for HostSystem {
    fn interface_exists(&self, name: &str) -> bool {
        !name.is_empty()
            && !name.contains('/')
            && name != "."
            && name != ".."
            && Path::new("/sys/class/net").join(name).exists()
    }

    fn user(&self, name: &str) -> Option<(u32, u32)> {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let user = f.next()?;
            let _pw = f.next()?;
            let uid = f.next()?.parse().ok()?;
            let gid = f.next()?.parse().ok()?;
            (user == name).then_some((uid, gid))
        })
    }

    fn group(&self, name: &str) -> Option<u32> {
        let groups = std::fs::read_to_string("/etc/group").ok()?;
        groups.lines().find_map(|l| {
            let mut f = l.split(':');
            let group = f.next()?;
            let _pw = f.next()?;
            let gid = f.next()?.parse().ok()?;
            (group == name).then_some(gid)
        })
    }

    fn hostname(&self) -> String {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "localhost".to_string())
    }
}

/// A described host for tests.
#[derive(Debug, Clone, Default)]
pub struct FakeSystem {
    pub interfaces: Vec<String>,
    pub users: Vec<(String, u32, u32)>,
    pub groups: Vec<(String, u32)>,
    pub hostname: String,
}

impl System for FakeSystem {
    fn interface_exists(&self, name: &str) -> bool {
        self.interfaces.iter().any(|i| i == name)
    }
    fn user(&self, name: &str) -> Option<(u32, u32)> {
        self.users
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, u, g)| (*u, *g))
    }
    fn group(&self, name: &str) -> Option<u32> {
        self.groups.iter().find(|(n, _)| n == name).map(|(_, g)| *g)
    }
    fn hostname(&self) -> String {
        self.hostname.clone()
    }
}
