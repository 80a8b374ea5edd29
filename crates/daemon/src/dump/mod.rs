//! The dump files keepalived writes on request: `keepalived.data` (SIGUSR1),
//! `keepalived.stats` (SIGUSR2, STATS_CLEAR) and `keepalived.json` (SIGRTMIN+2), in
//! keepalived 2.2.7's formats, rendered from a [`Snapshot`].
//!
//! Files go to `$TMPDIR` (when absolute) or `/tmp`, as upstream, and are replaced
//! atomically (a temporary file in the same directory, then a rename), so a reader
//! never sees half a dump. A failure is logged and never stops the daemon.
//! [`write_file`] and [`data_file_name`] are shared with the checker's
//! `keepalived_check.data`.

pub mod data;
pub mod json;
pub mod stats;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use tracing::{error, info};

use crate::vrrp::snapshot::Snapshot;

/// keepalived `set_tmp_dir()`: `$TMPDIR` if it is an absolute path, else `/tmp`.
pub fn tmp_dir() -> PathBuf {
    match std::env::var_os("TMPDIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from("/tmp"),
    }
}

/// keepalived `open_dump_file()`: with `data_use_instance` and an `instance` name or
/// network namespace, `keepalived.data` becomes `keepalived.NETNS_INSTANCE.data`
/// (either part alone without the `_`). Only the `.data` files are renamed.
pub fn data_file_name(base: &str, global: &config::model::GlobalConfig) -> String {
    let namespace = global.net_namespace.as_deref();
    let instance = global.instance.as_deref();
    if !global.data_use_instance || (namespace.is_none() && instance.is_none()) {
        return base.to_string();
    }
    let (stem, extension) = base.rsplit_once('.').unwrap_or((base, ""));
    let separator = if namespace.is_some() && instance.is_some() {
        "_"
    } else {
        ""
    };
    format!(
        "{stem}.{}{separator}{}.{extension}",
        namespace.unwrap_or(""),
        instance.unwrap_or("")
    )
}

/// Writes `contents` to `dir/name` atomically with mode 0600 (keepalived's dumps are
/// root-only: its umask is 0177).
pub fn write_atomic(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| file.write_all(contents))
        .and_then(|()| std::fs::rename(&temporary, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    Ok(path)
}

/// Writes one dump file in [`tmp_dir`]; failures are logged, never fatal.
pub fn write_file(name: &str, contents: &str) {
    let dir = tmp_dir();
    match write_atomic(&dir, name, contents.as_bytes()) {
        Ok(path) => info!("Wrote {}", path.display()),
        Err(e) => error!("Can't write dump file {}/{name}: {e}", dir.display()),
    }
}

/// SIGUSR1: `keepalived.data`.
pub fn write_data(snapshot: &Snapshot) {
    let name = data_file_name("keepalived.data", &snapshot.config.global);
    write_file(&name, &data::render(snapshot));
}

/// SIGUSR2: `keepalived.stats`.
pub fn write_stats(snapshot: &Snapshot) {
    write_file("keepalived.stats", &stats::render(snapshot));
}

/// SIGRTMIN+2: `keepalived.json` (keepalived writes nothing without instances).
pub fn write_json(snapshot: &Snapshot) {
    if snapshot.instances.is_empty() {
        return;
    }
    match json::render(snapshot) {
        Ok(text) => write_file("keepalived.json", &text),
        Err(e) => error!("cannot render keepalived.json: {e}"),
    }
}

/// `seconds.micros` since the epoch, as keepalived prints `struct timeval`s.
pub(crate) fn epoch_micros(time: std::time::SystemTime) -> (u64, u32) {
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs(), since.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_names_follow_data_use_instance() {
        let mut global = config::model::GlobalConfig::default();
        assert_eq!(
            data_file_name("keepalived.data", &global),
            "keepalived.data"
        );
        global.instance = Some("klA".into());
        assert_eq!(
            data_file_name("keepalived.data", &global),
            "keepalived.data"
        );
        global.data_use_instance = true;
        assert_eq!(
            data_file_name("keepalived.data", &global),
            "keepalived.klA.data"
        );
        assert_eq!(
            data_file_name("keepalived_check.data", &global),
            "keepalived_check.klA.data"
        );
        global.net_namespace = Some("ns1".into());
        assert_eq!(
            data_file_name("keepalived.data", &global),
            "keepalived.ns1_klA.data"
        );
        global.instance = None;
        assert_eq!(
            data_file_name("keepalived.data", &global),
            "keepalived.ns1.data"
        );
    }

    #[test]
    fn atomic_write_replaces_the_file_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("dump-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        write_atomic(&dir, "x.stats", b"one").expect("first write");
        let path = write_atomic(&dir, "x.stats", b"two").expect("second write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
