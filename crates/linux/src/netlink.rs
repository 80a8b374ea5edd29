//! The rtnetlink connection shared by [`crate::addr`] and [`crate::link`].

use std::io;

use futures::StreamExt;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;

/// A request/response rtnetlink connection. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Netlink {
    handle: rtnetlink::Handle,
}

/// Errors of netlink requests.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The netlink socket could not be opened.
    #[error("cannot open rtnetlink socket: {0}")]
    Open(#[source] io::Error),
    /// The connection task is gone (the runtime is shutting down).
    #[error("rtnetlink connection closed during {op}")]
    ConnectionClosed {
        /// What we were doing.
        op: &'static str,
    },
    /// The kernel refused the request.
    #[error("{op}: {source}")]
    Kernel {
        /// What we were doing, e.g. "add address 192.0.2.1/24 on ifindex 3".
        op: String,
        /// The errno the kernel answered with.
        #[source]
        source: io::Error,
    },
    /// The kernel answered with something we did not ask for.
    #[error("{op}: unexpected netlink answer")]
    Unexpected {
        /// What we were doing.
        op: String,
    },
}

impl NetlinkError {
    /// The errno of a kernel refusal.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

impl Netlink {
    /// Opens a connection in the calling thread's network namespace and spawns
    /// its driver task on the current tokio runtime (so this must be called
    /// inside one).
    pub fn new() -> Result<Self, NetlinkError> {
        let (connection, handle, _unsolicited) =
            rtnetlink::new_connection().map_err(NetlinkError::Open)?;
        tokio::spawn(connection);
        Ok(Self { handle })
    }

    /// The underlying rtnetlink handle, for requests this crate does not wrap.
    pub fn handle(&self) -> &rtnetlink::Handle {
        &self.handle
    }

    /// Sends a request that is answered by an ACK (or an error).
    pub(crate) async fn acked(
        &self,
        op: impl FnOnce() -> String,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<(), NetlinkError> {
        let mut request = NetlinkMessage::from(message);
        request.header.flags = flags;
        let mut handle = self.handle.clone();
        let mut responses = handle
            .request(request)
            .map_err(|_| NetlinkError::ConnectionClosed { op: "request" })?;
        while let Some(response) = responses.next().await {
            if let NetlinkPayload::Error(error) = response.payload
                && error.code.is_some()
            {
                return Err(NetlinkError::Kernel {
                    op: op(),
                    source: error.to_io(),
                });
            }
        }
        Ok(())
    }

    /// Sends a dump request and collects the answers.
    pub(crate) async fn dump(
        &self,
        op: impl Fn() -> String,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        let mut request = NetlinkMessage::from(message);
        request.header.flags = netlink_packet_core::NLM_F_REQUEST | netlink_packet_core::NLM_F_DUMP;
        let mut handle = self.handle.clone();
        let mut responses = handle
            .request(request)
            .map_err(|_| NetlinkError::ConnectionClosed { op: "dump" })?;
        let mut out = Vec::new();
        while let Some(response) = responses.next().await {
            match response.payload {
                NetlinkPayload::InnerMessage(inner) => out.push(inner),
                NetlinkPayload::Error(error) if error.code.is_some() => {
                    return Err(NetlinkError::Kernel {
                        op: op(),
                        source: error.to_io(),
                    });
                }
                NetlinkPayload::Done(_) | NetlinkPayload::Noop | NetlinkPayload::Error(_) => {}
                NetlinkPayload::Overrun(_) => return Err(NetlinkError::Unexpected { op: op() }),
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Whether a request changed anything: adding an address that is already
/// there, or deleting one that is not, is success (keepalived treats EEXIST
/// and EADDRNOTAVAIL the same way on reload and at shutdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The kernel state changed.
    Done,
    /// It was already in the requested state.
    AlreadyInPlace,
}
