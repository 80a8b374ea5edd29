//! A generic netlink client for Linux IPVS (`ip_vs`), the kernel load
//! balancer that keepalived's `virtual_server` blocks program.
//!
//! Three layers, as in rust-netlink:
//!
//! 1. **Wire types** ([`wire`], [`nla`]): [`IpvsCmd`], the attribute enums
//!    [`ServiceNla`], [`DestNla`], [`DaemonNla`], [`CmdNla`] and the message
//!    [`IpvsMessage`] with `emit`/`parse`, plus conversions from and to the
//!    model (`service_nlas`, `service_from_nlas`, ...). Requests are encoded
//!    exactly like ipvsadm 1.31 (libipvs) encodes them; `tests/golden.rs`
//!    compares against bytes captured from ipvsadm with strace, and decodes
//!    captured kernel replies.
//! 2. **Transport** ([`socket::GenlSocket`]): a synchronous `NETLINK_GENERIC`
//!    socket (via `nix`, no `unsafe`), family resolution
//!    (`CTRL_CMD_GETFAMILY "IPVS"`), ACK/error handling, multipart dumps.
//! 3. **Handle** ([`Ipvs`]): typed operations over the model types
//!    [`Service`], [`ServiceKey`], [`Dest`], [`Daemon`], [`Timeouts`], [`Info`].
//!
//! ```no_run
//! use ipvs::{Dest, Forwarding, Ipvs, Protocol, Service, ServiceKey};
//!
//! let mut ipvs = Ipvs::connect()?;              // needs CAP_NET_ADMIN
//! let key = ServiceKey::Addr { protocol: Protocol::Tcp, addr: "10.0.0.1".parse()?, port: 80 };
//! ipvs.add_service(&Service::new(key, "wlc").persistent(300))?;
//! ipvs.add_dest(&key, &Dest::new("192.168.0.2".parse()?, 80, Forwarding::Masq, 1))?;
//! for svc in ipvs.services()? {
//!     println!("{} {} {:?}", svc.key, svc.scheduler, ipvs.dests(&svc.key)?);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Operations of [`Ipvs`]
//!
//! | method | kernel command | ipvsadm |
//! | --- | --- | --- |
//! | [`Ipvs::connect`] | `CTRL_CMD_GETFAMILY "IPVS"` (autoloads `ip_vs`) | |
//! | [`Ipvs::info`] | `GET_INFO` | header of `-Ln` |
//! | [`Ipvs::services`], [`Ipvs::service`] | `GET_SERVICE` (dump / one) | `-Ln` |
//! | [`Ipvs::add_service`], [`Ipvs::edit_service`], [`Ipvs::del_service`] | `NEW/SET/DEL_SERVICE` | `-A`, `-E`, `-D` |
//! | [`Ipvs::dests`] | `GET_DEST` (dump) | `-Ln -t ...` |
//! | [`Ipvs::add_dest`], [`Ipvs::edit_dest`], [`Ipvs::del_dest`] | `NEW/SET/DEL_DEST` | `-a`, `-e`, `-d` |
//! | [`Ipvs::flush`] | `FLUSH` | `-C` |
//! | [`Ipvs::zero`], [`Ipvs::zero_service`] | `ZERO` | `-Z` |
//! | [`Ipvs::timeouts`], [`Ipvs::set_timeouts`] | `GET/SET_CONFIG` | `-Ln --timeout`, `--set` |
//! | [`Ipvs::daemons`], [`Ipvs::new_daemon`], [`Ipvs::del_daemon`] | `GET/NEW/DEL_DAEMON` | `-Ln --daemon`, `--start-daemon`, `--stop-daemon` |
//!
//! ## Errors
//!
//! Every failure is an [`Error`] naming the command and the object
//! ([`Target`]). Kernel errnos that callers act on are variants:
//! `EEXIST` → [`Error::AlreadyExists`], `ESRCH`/`ENOENT` → [`Error::NotFound`]
//! (no such service / real server / scheduler module), `EINVAL` →
//! [`Error::InvalidArgument`], `EPERM` → [`Error::PermissionDenied`],
//! `ERANGE` → [`Error::OutOfRange`], `EBUSY` → [`Error::Busy`]; others keep their errno in [`Error::Kernel`].
//! Malformed kernel data is an [`Error::Decode`]; nothing here panics on it.
//!
//! ## Semantics worth knowing
//!
//! * GET returns [`ServiceFlags::HASHED`] on every service; compare
//!   configurations with [`Service::same_config`].
//! * The real server port is sent as given. ipvsadm replaces it with the
//!   service port for direct routing and tunnelling (the kernel ignores it
//!   for those); callers that want ipvsadm's listing must do the same.
//! * DEL/GET/ZERO and destination commands send only the service's key
//!   attributes (ipvsadm sends the whole service, which the kernel ignores).
//! * [`Ipvs::set_timeouts`]: a 0 leaves that timeout unchanged.
//! * A sync daemon cannot start while mixed-family real servers exist, and
//!   vice versa (kernel: `EINVAL`).
//!
//! ## Tests
//!
//! * `tests/golden.rs` (host): requests byte for byte against ipvsadm's
//!   (`testdata/capture-golden.sh`), decoders against kernel replies
//!   (`testdata/capture-replies.sh`); both scripts run in the ipvs-vm guest.
//! * `tests/roundtrip.rs` (host): property tests, decode(encode(x)) == x.
//! * `tests/transport.rs` (host): the socket against the genl controller.
//! * `tests/vm.rs`: every operation against a real `ip_vs`, cross-checked with
//!   ipvsadm; skipped outside the ipvs-vm guest. `run-vm-tests.sh` runs it.

pub mod error;
pub mod model;
pub mod nla;
pub mod reconcile;
pub mod socket;
pub mod wire;

pub use error::{DecodeError, Error, Target};
pub use model::{
    AddressFamily, Daemon, DaemonState, Dest, DestCounters, DestKey, Forwarding, Info, Netmask,
    Protocol, SCHEDULERS, Service, ServiceFlags, ServiceKey, Stats, Timeouts, TunnelFlags,
    TunnelType,
};
pub use nix::errno::Errno;
pub use nla::EncodeError;
pub use wire::{CmdNla, DaemonNla, DestNla, IpvsCmd, IpvsMessage, ServiceNla};

use socket::{GenlSocket, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, RequestError};
use std::time::Duration;

/// A connection to the kernel's IPVS generic netlink family.
#[derive(Debug)]
pub struct Ipvs {
    socket: GenlSocket,
    family_id: u16,
}

impl Ipvs {
    /// Opens a generic netlink socket and resolves the "IPVS" family. Fails
    /// with [`Error::Unavailable`] when the kernel has no IPVS (module
    /// missing or not loadable).
    pub fn connect() -> Result<Self, Error> {
        let mut socket = GenlSocket::open().map_err(Error::Socket)?;
        let family_id = socket
            .resolve_family(wire::IPVS_GENL_NAME)
            .map_err(|e| match e {
                RequestError::Os(errno) => Error::Socket(errno),
                RequestError::Kernel(errno) => Error::Unavailable(errno),
                RequestError::Timeout => Error::Resolve("no answer".into()),
                RequestError::Malformed(source) => Error::Resolve(source.to_string()),
            })?;
        Ok(Ipvs { socket, family_id })
    }

    /// The dynamic generic netlink id of the "IPVS" family.
    pub fn family_id(&self) -> u16 {
        self.family_id
    }

    /// How long to wait for each kernel answer (default 30 s).
    pub fn set_recv_timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        self.socket.set_recv_timeout(timeout).map_err(Error::Socket)
    }

    fn exchange(
        &mut self,
        msg: &IpvsMessage,
        dump: bool,
        target: &Target,
    ) -> Result<Vec<IpvsMessage>, Error> {
        let cmd = msg.cmd;
        let payload = msg.emit().map_err(|source| Error::Encode {
            cmd,
            target: target.clone(),
            source,
        })?;
        let flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        let replies = self
            .socket
            .request(self.family_id, flags, &payload)
            .map_err(|e| match e {
                RequestError::Os(errno) => Error::Socket(errno),
                RequestError::Kernel(errno) => Error::from_kernel(cmd, target.clone(), errno),
                RequestError::Timeout => Error::Timeout { cmd },
                RequestError::Malformed(source) => Error::Decode { cmd, source },
            })?;
        replies
            .iter()
            .map(|reply| IpvsMessage::parse(reply).map_err(|source| Error::Decode { cmd, source }))
            .collect()
    }

    fn execute(&mut self, msg: &IpvsMessage, target: Target) -> Result<(), Error> {
        self.exchange(msg, false, &target).map(drop)
    }

    fn encode_error(cmd: IpvsCmd, target: Target) -> impl FnOnce(EncodeError) -> Error {
        move |source| Error::Encode {
            cmd,
            target,
            source,
        }
    }

    /// IPVS version and connection table size.
    pub fn info(&mut self) -> Result<Info, Error> {
        let cmd = IpvsCmd::GetInfo;
        let replies = self.exchange(&wire::bare_request(cmd), false, &Target::None)?;
        let reply = replies.first().ok_or(Error::Decode {
            cmd,
            source: DecodeError::Missing { what: "reply" },
        })?;
        reply.info().map_err(|source| Error::Decode { cmd, source })
    }

    /// All virtual services, with statistics.
    pub fn services(&mut self) -> Result<Vec<Service>, Error> {
        let cmd = IpvsCmd::GetService;
        let replies = self.exchange(&wire::bare_request(cmd), true, &Target::None)?;
        replies
            .iter()
            .filter_map(IpvsMessage::service)
            .map(|nlas| {
                wire::service_from_nlas(nlas).map_err(|source| Error::Decode { cmd, source })
            })
            .collect()
    }

    /// One virtual service; [`Error::NotFound`] when there is none.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        let cmd = IpvsCmd::GetService;
        let target = Target::Service(*key);
        let replies = self.exchange(&wire::service_key_request(cmd, key), false, &target)?;
        let nlas = replies
            .iter()
            .find_map(IpvsMessage::service)
            .ok_or(Error::Decode {
                cmd,
                source: DecodeError::Missing {
                    what: "IPVS_CMD_ATTR_SERVICE",
                },
            })?;
        wire::service_from_nlas(nlas).map_err(|source| Error::Decode { cmd, source })
    }

    fn service_command(&mut self, cmd: IpvsCmd, service: &Service) -> Result<(), Error> {
        let target = Target::Service(service.key);
        let msg =
            wire::service_request(cmd, service).map_err(Self::encode_error(cmd, target.clone()))?;
        self.execute(&msg, target)
    }

    /// `ipvsadm -A`. [`Error::AlreadyExists`] if the key is taken,
    /// [`Error::NotFound`] if the scheduler (or persistence engine) module
    /// does not exist.
    pub fn add_service(&mut self, service: &Service) -> Result<(), Error> {
        self.service_command(IpvsCmd::NewService, service)
    }

    /// `ipvsadm -E`: replaces scheduler, flags, timeout, netmask and PE.
    pub fn edit_service(&mut self, service: &Service) -> Result<(), Error> {
        self.service_command(IpvsCmd::SetService, service)
    }

    /// `ipvsadm -D`, with its real servers.
    pub fn del_service(&mut self, key: &ServiceKey) -> Result<(), Error> {
        let cmd = IpvsCmd::DelService;
        self.execute(&wire::service_key_request(cmd, key), Target::Service(*key))
    }

    /// The real servers of a service, with counters. The kernel answers an
    /// unknown service with an empty list.
    pub fn dests(&mut self, service: &ServiceKey) -> Result<Vec<Dest>, Error> {
        let cmd = IpvsCmd::GetDest;
        let target = Target::Service(*service);
        let replies = self.exchange(&wire::service_key_request(cmd, service), true, &target)?;
        replies
            .iter()
            .filter_map(IpvsMessage::dest)
            .map(|nlas| {
                wire::dest_from_nlas(nlas, service.family())
                    .map_err(|source| Error::Decode { cmd, source })
            })
            .collect()
    }

    fn dest_command(
        &mut self,
        cmd: IpvsCmd,
        service: &ServiceKey,
        dest: &Dest,
    ) -> Result<(), Error> {
        let target = Target::Dest(*service, dest.key());
        self.execute(&wire::dest_request(cmd, service, dest), target)
    }

    /// `ipvsadm -a`. [`Error::AlreadyExists`] if the real server is there,
    /// [`Error::NotFound`] if the service is not.
    pub fn add_dest(&mut self, service: &ServiceKey, dest: &Dest) -> Result<(), Error> {
        self.dest_command(IpvsCmd::NewDest, service, dest)
    }

    /// `ipvsadm -e`: replaces forwarding, weight and thresholds.
    pub fn edit_dest(&mut self, service: &ServiceKey, dest: &Dest) -> Result<(), Error> {
        self.dest_command(IpvsCmd::SetDest, service, dest)
    }

    /// `ipvsadm -d`.
    pub fn del_dest(&mut self, service: &ServiceKey, dest: &DestKey) -> Result<(), Error> {
        let cmd = IpvsCmd::DelDest;
        self.execute(
            &wire::dest_key_request(cmd, service, dest),
            Target::Dest(*service, *dest),
        )
    }

    /// `ipvsadm -C`: removes every service and real server.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.execute(&wire::bare_request(IpvsCmd::Flush), Target::None)
    }

    /// `ipvsadm -Z`: zeroes the counters of all services.
    pub fn zero(&mut self) -> Result<(), Error> {
        self.execute(&wire::bare_request(IpvsCmd::Zero), Target::None)
    }

    /// `ipvsadm -Z -t ...`: zeroes one service's counters.
    pub fn zero_service(&mut self, key: &ServiceKey) -> Result<(), Error> {
        let cmd = IpvsCmd::Zero;
        self.execute(&wire::service_key_request(cmd, key), Target::Service(*key))
    }

    /// TCP, TCP FIN and UDP connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let replies = self.exchange(
            &wire::bare_request(IpvsCmd::GetConfig),
            false,
            &Target::None,
        )?;
        Ok(replies
            .first()
            .map(IpvsMessage::timeouts)
            .unwrap_or_default())
    }

    /// `ipvsadm --set`; a 0 leaves that timeout unchanged.
    pub fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), Error> {
        self.execute(&wire::timeouts_request(timeouts), Target::None)
    }

    /// Running sync daemons (at most one master and one backup).
    pub fn daemons(&mut self) -> Result<Vec<Daemon>, Error> {
        let cmd = IpvsCmd::GetDaemon;
        let replies = self.exchange(&wire::bare_request(cmd), true, &Target::None)?;
        replies
            .iter()
            .filter_map(IpvsMessage::daemon)
            .map(|nlas| {
                wire::daemon_from_nlas(nlas).map_err(|source| Error::Decode { cmd, source })
            })
            .collect()
    }

    /// `ipvsadm --start-daemon`. [`Error::AlreadyExists`] if one of that
    /// state runs.
    pub fn new_daemon(&mut self, daemon: &Daemon) -> Result<(), Error> {
        let cmd = IpvsCmd::NewDaemon;
        let target = Target::Daemon(daemon.state);
        let msg =
            wire::new_daemon_request(daemon).map_err(Self::encode_error(cmd, target.clone()))?;
        self.execute(&msg, target)
    }

    /// `ipvsadm --stop-daemon`.
    pub fn del_daemon(&mut self, state: DaemonState) -> Result<(), Error> {
        self.execute(&wire::del_daemon_request(state), Target::Daemon(state))
    }
}
