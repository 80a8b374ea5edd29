//! Per-interface sysctls under `/proc/sys`, with a record of the values we
//! changed so that they can be put back (keepalived restores them on exit:
//! `vrrp_if_config.c`).

use std::io;
use std::path::PathBuf;

fn path(prefix: &str, iface: &str, param: &str) -> io::Result<PathBuf> {
    // An interface name can hold '.', which is literal in /proc/sys paths
    // (only the sysctl(8) tool maps '.' to '/'); '/' and ".." cannot occur in
    // a kernel interface name, but names reach us from config files.
    if iface.is_empty() || iface.contains('/') || iface == "." || iface == ".." {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {iface:?}"),
        ));
    }
    Ok(PathBuf::from(format!("/proc/sys/{prefix}/{iface}/{param}")))
}

/// Reads an integer sysctl, e.g. `read("net/ipv4/conf", "eth0", "arp_ignore")`.
pub fn read(prefix: &str, iface: &str, param: &str) -> io::Result<u32> {
    let text = std::fs::read_to_string(path(prefix, iface, param)?)?;
    text.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{prefix}/{iface}/{param}: not an integer: {:?}",
                text.trim()
            ),
        )
    })
}

/// Writes an integer sysctl.
pub fn write(prefix: &str, iface: &str, param: &str, value: u32) -> io::Result<()> {
    std::fs::write(path(prefix, iface, param)?, format!("{value}\n"))
}

/// One sysctl we changed, with the value it had before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSysctl {
    /// e.g. `net/ipv4/conf`.
    pub prefix: String,
    /// Interface name (or `all` / `default`).
    pub iface: String,
    /// e.g. `arp_ignore`.
    pub param: String,
    /// The value before we changed it.
    pub original: u32,
}

/// Sysctls changed so far, restorable in reverse order.
#[derive(Debug, Default)]
pub struct SysctlChanges {
    saved: Vec<SavedSysctl>,
}

impl SysctlChanges {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `prefix/iface/param` to `value`, remembering the original value
    /// the first time we touch it. Writes nothing if it already has `value`
    /// (keepalived does the same for the parent's arp_ignore/arp_filter).
    pub fn set(&mut self, prefix: &str, iface: &str, param: &str, value: u32) -> io::Result<()> {
        let original = read(prefix, iface, param)?;
        if original == value {
            return Ok(());
        }
        write(prefix, iface, param, value)?;
        let already = self
            .saved
            .iter()
            .any(|s| s.prefix == prefix && s.iface == iface && s.param == param);
        if !already {
            self.saved.push(SavedSysctl {
                prefix: prefix.to_owned(),
                iface: iface.to_owned(),
                param: param.to_owned(),
                original,
            });
        }
        Ok(())
    }

    /// What we changed, oldest first.
    pub fn saved(&self) -> &[SavedSysctl] {
        &self.saved
    }

    /// Puts every changed value back, newest first. Entries whose interface
    /// has vanished (ENOENT) are dropped silently; the first other error is
    /// returned after trying them all.
    pub fn restore(&mut self) -> io::Result<()> {
        let mut first_error = None;
        while let Some(s) = self.saved.pop() {
            match write(&s.prefix, &s.iface, &s.param, s.original) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Forgets the changes of one interface (it was deleted, so its sysctls
    /// went with it).
    pub fn forget_interface(&mut self, iface: &str) {
        self.saved.retain(|s| s.iface != iface);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_path_escapes() {
        assert!(path("net/ipv4/conf", "../x", "arp_ignore").is_err());
        assert!(path("net/ipv4/conf", "..", "arp_ignore").is_err());
        assert!(path("net/ipv4/conf", "", "arp_ignore").is_err());
        assert_eq!(
            path("net/ipv4/conf", "vrrp.51", "arp_ignore")
                .expect("valid")
                .to_str(),
            Some("/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore")
        );
    }

    #[test]
    fn reads_loopback_sysctl() {
        // Present on every Linux network namespace.
        assert!(read("net/ipv4/conf", "lo", "arp_ignore").is_ok());
    }
}
