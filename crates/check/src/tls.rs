//! SSL_GET's TLS client (rustls with ring).
//!
//! keepalived (`check_ssl.c`): without a `ca` the server certificate is not
//! verified at all; with one it must chain to that CA (keepalived does not match
//! the host name, so neither do we). `certificate`/`key` give a client
//! certificate. SNI is sent only with `enable_sni`, carrying the virtualhost.

use std::net::IpAddr;
use std::sync::Arc;

use config::model::lvs::SslConfig;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Errors setting up TLS from the `SSL { }` block.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no certificate in {0}")]
    NoCertificate(String),
    #[error("no private key in {0}")]
    NoKey(String),
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("CA {path}: {message}")]
    Verifier { path: String, message: String },
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts any server certificate (keepalived without `ca`), still checking the
/// handshake signatures so the session is sound.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Verifies the chain against the configured CA but not the name (keepalived
/// checks only `SSL_get_verify_result`).
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn read_certificates(path: &str) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let pem = std::fs::read(path).map_err(|source| TlsSetupError::Read {
        path: path.to_string(),
        source,
    })?;
    let certificates = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsSetupError::Read {
            path: path.to_string(),
            source,
        })?;
    if certificates.is_empty() {
        return Err(TlsSetupError::NoCertificate(path.to_string()));
    }
    Ok(certificates)
}

fn read_key(path: &str) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let pem = std::fs::read(path).map_err(|source| TlsSetupError::Read {
        path: path.to_string(),
        source,
    })?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|source| TlsSetupError::Read {
            path: path.to_string(),
            source,
        })?
        .ok_or_else(|| TlsSetupError::NoKey(path.to_string()))
}

/// The client configuration for the `SSL { }` block (or none).
pub fn client_config(ssl: Option<&SslConfig>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match ssl.and_then(|s| s.ca_file.as_deref()) {
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            })),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for certificate in read_certificates(ca)? {
                roots.add(certificate)?;
            }
            let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|error| TlsSetupError::Verifier {
                    path: ca.to_string(),
                    message: error.to_string(),
                })?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly { inner }))
        }
    };
    let certificate = ssl.and_then(|s| s.certificate_file.as_deref());
    let config = match certificate {
        Some(certificate) => {
            // keepalived: the key defaults to the certificate file.
            let key = ssl
                .and_then(|s| s.key_file.as_deref())
                .unwrap_or(certificate);
            builder.with_client_auth_cert(read_certificates(certificate)?, read_key(key)?)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// How SSL_GET connects.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub config: Arc<ClientConfig>,
    /// `enable_sni`: send the virtualhost as SNI.
    pub sni: bool,
}

impl TlsSettings {
    /// The TLS handshake over an established connection. Without SNI the name
    /// is the server's address, which rustls never puts in an SNI extension.
    pub async fn handshake(
        &self,
        stream: TcpStream,
        virtualhost: Option<&str>,
        addr: IpAddr,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let name = match (self.sni, virtualhost) {
            (true, Some(vhost)) => ServerName::try_from(vhost.to_string())
                .unwrap_or_else(|_| ServerName::IpAddress(addr.into())),
            _ => ServerName::IpAddress(addr.into()),
        };
        TlsConnector::from(self.config.clone())
            .connect(name, stream)
            .await
    }
}
