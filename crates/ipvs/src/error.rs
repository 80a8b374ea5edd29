//! Error types: decoding kernel data, and the handle's typed errors with the
//! command and object they concern.

use std::fmt;

use nix::errno::Errno;

use crate::model::{DaemonState, DestKey, ServiceKey};
use crate::nla::EncodeError;
use crate::wire::IpvsCmd;

/// Kernel (or peer) data that does not have the shape the IPVS family defines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated {what}")]
    Truncated { what: &'static str },
    #[error("attribute {kind} has an invalid length {len}")]
    BadAttributeLength { kind: u16, len: usize },
    #[error("{what}: unexpected payload length {len}")]
    BadPayloadLength { what: &'static str, len: usize },
    #[error("{what}: not valid UTF-8")]
    BadString { what: &'static str },
    #[error("missing attribute {what}")]
    Missing { what: &'static str },
    #[error("unknown address family {0}")]
    UnknownAddressFamily(u16),
    #[error("unknown protocol {0}")]
    UnknownProtocol(u16),
    #[error("unknown forwarding method {0}")]
    UnknownForwarding(u32),
    #[error("unknown tunnel type {0}")]
    UnknownTunnelType(u8),
    #[error("unknown sync daemon state {0}")]
    UnknownDaemonState(u32),
    #[error("unknown IPVS command {0}")]
    UnknownCommand(u8),
    #[error("IPv6 netmask prefix length {0} is greater than 128")]
    BadPrefixLength(u32),
    #[error("netlink message: {0}")]
    Netlink(&'static str),
}

/// What a failed request was about, for error messages and matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    None,
    Family(String),
    Service(ServiceKey),
    Dest(ServiceKey, DestKey),
    Daemon(DaemonState),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::None => f.write_str("(global)"),
            Target::Family(name) => write!(f, "genl family {name:?}"),
            Target::Service(key) => write!(f, "service {key}"),
            Target::Dest(svc, dest) => write!(f, "service {svc} real server {dest}"),
            Target::Daemon(state) => write!(f, "sync daemon {state}"),
        }
    }
}

/// Errors of [`crate::Ipvs`] operations. Kernel errnos that callers act on
/// have their own variants; the rest keep the errno.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("netlink socket: {0}")]
    Socket(#[source] Errno),
    /// The "IPVS" generic netlink family is not registered (no `ip_vs`
    /// module, or it could not be loaded) or could not be resolved.
    #[error("IPVS is not available (generic netlink family \"IPVS\"): {0}")]
    Unavailable(#[source] Errno),
    #[error("{cmd} {target}: already exists")]
    AlreadyExists { cmd: IpvsCmd, target: Target },
    /// `ESRCH` (no such service) or `ENOENT` (no such real server, scheduler
    /// or persistence engine module).
    #[error("{cmd} {target}: not found ({errno})")]
    NotFound {
        cmd: IpvsCmd,
        target: Target,
        errno: Errno,
    },
    #[error("{cmd} {target}: invalid argument")]
    InvalidArgument { cmd: IpvsCmd, target: Target },
    #[error("{cmd} {target}: permission denied ({errno}); CAP_NET_ADMIN is required")]
    PermissionDenied {
        cmd: IpvsCmd,
        target: Target,
        errno: Errno,
    },
    /// `ERANGE`: a weight or threshold the kernel rejects (weight above
    /// `i32::MAX`, lower threshold above the upper one).
    #[error("{cmd} {target}: value out of range")]
    OutOfRange { cmd: IpvsCmd, target: Target },
    #[error("{cmd} {target}: busy")]
    Busy { cmd: IpvsCmd, target: Target },
    #[error("{cmd} {target}: kernel error {errno}")]
    Kernel {
        cmd: IpvsCmd,
        target: Target,
        errno: Errno,
    },
    #[error("{cmd} {target}: cannot encode request: {source}")]
    Encode {
        cmd: IpvsCmd,
        target: Target,
        #[source]
        source: EncodeError,
    },
    #[error("{cmd}: malformed reply: {source}")]
    Decode {
        cmd: IpvsCmd,
        #[source]
        source: DecodeError,
    },
    #[error("{cmd}: no reply from the kernel within the receive timeout")]
    Timeout { cmd: IpvsCmd },
    /// The controller's answer to the "IPVS" family lookup was malformed,
    /// or it did not come in time.
    #[error("resolving the generic netlink family \"IPVS\": {0}")]
    Resolve(String),
}

impl Error {
    /// Maps a kernel errno from an IPVS request to a typed error.
    pub fn from_kernel(cmd: IpvsCmd, target: Target, errno: Errno) -> Self {
        match errno {
            Errno::EEXIST => Error::AlreadyExists { cmd, target },
            Errno::ENOENT | Errno::ESRCH => Error::NotFound { cmd, target, errno },
            Errno::EINVAL => Error::InvalidArgument { cmd, target },
            Errno::EPERM | Errno::EACCES => Error::PermissionDenied { cmd, target, errno },
            Errno::EBUSY => Error::Busy { cmd, target },
            Errno::ERANGE => Error::OutOfRange { cmd, target },
            errno => Error::Kernel { cmd, target, errno },
        }
    }

    /// The kernel errno behind this error, if there is one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Socket(errno) | Error::Unavailable(errno) => Some(*errno),
            Error::AlreadyExists { .. } => Some(Errno::EEXIST),
            Error::InvalidArgument { .. } => Some(Errno::EINVAL),
            Error::Busy { .. } => Some(Errno::EBUSY),
            Error::OutOfRange { .. } => Some(Errno::ERANGE),
            Error::NotFound { errno, .. }
            | Error::PermissionDenied { errno, .. }
            | Error::Kernel { errno, .. } => Some(*errno),
            Error::Encode { .. }
            | Error::Decode { .. }
            | Error::Timeout { .. }
            | Error::Resolve(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AddressFamily, Protocol};

    #[test]
    fn kernel_errnos_map_to_typed_errors_with_context() {
        let key = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            port: 53,
        };
        let target = Target::Service(key);
        let err = Error::from_kernel(IpvsCmd::NewService, target.clone(), Errno::EEXIST);
        assert!(matches!(err, Error::AlreadyExists { .. }));
        assert_eq!(
            err.to_string(),
            "IPVS_CMD_NEW_SERVICE service UDP [::1]:53: already exists"
        );
        for (errno, found) in [
            (Errno::ESRCH, true),
            (Errno::ENOENT, true),
            (Errno::EIO, false),
        ] {
            let err = Error::from_kernel(IpvsCmd::DelService, target.clone(), errno);
            assert_eq!(matches!(err, Error::NotFound { .. }), found, "{errno}");
            assert_eq!(err.errno(), Some(errno));
        }
        assert!(matches!(
            Error::from_kernel(IpvsCmd::Flush, Target::None, Errno::EINVAL),
            Error::InvalidArgument { .. }
        ));
        assert!(matches!(
            Error::from_kernel(IpvsCmd::Flush, Target::None, Errno::EPERM),
            Error::PermissionDenied { .. }
        ));
        assert!(matches!(
            Error::from_kernel(IpvsCmd::NewDest, Target::None, Errno::ERANGE),
            Error::OutOfRange { .. }
        ));
        let other = Error::from_kernel(IpvsCmd::Flush, Target::None, Errno::EIO);
        assert!(matches!(other, Error::Kernel { .. }));
        assert!(
            other
                .to_string()
                .starts_with("IPVS_CMD_FLUSH (global): kernel error")
        );
        let fwm = Target::Service(ServiceKey::Fwmark {
            family: AddressFamily::Inet,
            mark: 3,
        });
        assert_eq!(fwm.to_string(), "service FWM 3");
    }
}
