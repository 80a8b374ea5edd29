//! The netlink transport against the running kernel's generic netlink
//! controller, which every Linux has: no root and no IPVS needed.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use ipvs::socket::{GenlSocket, RequestError};
use ipvs::{Errno, Error, Ipvs};

/// `GENL_ID_CTRL`: the controller's fixed family id.
const NLCTRL_ID: u16 = 0x10;

#[test]
fn resolves_the_controller_family_itself() {
    let mut socket = GenlSocket::open().unwrap();
    assert_eq!(socket.resolve_family("nlctrl").unwrap(), NLCTRL_ID);
    // The socket stays usable for further requests (sequence numbers advance).
    assert_eq!(socket.resolve_family("nlctrl").unwrap(), NLCTRL_ID);
}

#[test]
fn unknown_family_is_a_kernel_enoent() {
    let mut socket = GenlSocket::open().unwrap();
    assert_eq!(
        socket.resolve_family("no-such-family"),
        Err(RequestError::Kernel(Errno::ENOENT))
    );
    // Names of 16 bytes or more do not fit GENL_NAMSIZ: EINVAL from the
    // attribute policy on 6.x kernels; older ones answer ENOENT.
    let long = socket.resolve_family("a-name-of-16-byt");
    assert!(
        matches!(
            long,
            Err(RequestError::Kernel(Errno::EINVAL | Errno::ENOENT))
        ),
        "{long:?}"
    );
}

/// Without ip_vs, connecting is a typed `Unavailable`, not a panic or a hang.
#[test]
fn connect_without_ip_vs_is_unavailable() {
    if std::path::Path::new("/proc/net/ip_vs").exists() {
        eprintln!("ip_vs is loaded here: nothing to check");
        return;
    }
    match Ipvs::connect() {
        // The lookup autoloaded ip_vs (a kernel that has the module).
        Ok(_) => eprintln!("ip_vs was autoloaded: nothing to check"),
        Err(err) => {
            assert!(matches!(err, Error::Unavailable(Errno::ENOENT)), "{err:?}");
            assert!(err.to_string().starts_with("IPVS is not available"));
        }
    }
}
