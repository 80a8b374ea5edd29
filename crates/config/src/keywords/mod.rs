//! Keyword tables, one module per domain, as keepalived installs them
//! (global, VRRP, checker, BFD). The root table is the union of each domain's ROOT.

use crate::parser::{Keyword, Pass};

pub mod bfd;
pub mod check;
pub mod global;
pub mod vrrp;

/// The root-level tables, searched in this order.
pub fn root_tables() -> [&'static [Keyword]; 4] {
    [global::ROOT, vrrp::ROOT, check::ROOT, bfd::ROOT]
}

/// The track-file root keywords: keepalived installs them separately
/// (`add_track_file_keywords()`), active in the checker and VRRP passes only.
const TRACK_FILE_ROOTS: [&str; 2] = ["track_file", "vrrp_track_file"];

/// Whether root keyword `name` is active in `pass` (which `init_*_keywords(active)`
/// keepalived calls for each process). Global keywords are active only in the parent's
/// pass under `-t` (the children install them with `reload`, which is false).
pub fn root_active(pass: Pass, name: &str) -> bool {
    let in_table = |table: &[Keyword]| table.iter().any(|k| k.name == name);
    let track_file = TRACK_FILE_ROOTS.contains(&name);
    match pass {
        Pass::All => true,
        Pass::Global => in_table(global::ROOT),
        Pass::Checker => in_table(check::ROOT) || in_table(bfd::ROOT) || track_file,
        Pass::Vrrp => in_table(vrrp::ROOT) || in_table(bfd::ROOT),
        Pass::Bfd => in_table(bfd::ROOT),
    }
}
