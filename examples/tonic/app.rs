//! A gRPC service behind `AuthLayer`, served by tonic. Shared by the
//! example's `main` and its tests.

use tonic::{Request, Response, Status};
use tower_simplejwt::grpc::RequestAuth;
use tower_simplejwt::AuthLayer;
use tower_simplejwt::Jwt;

pub mod greeter {
    #![allow(clippy::all, missing_docs, unreachable_pub)]
    include!("greeter.v1.rs");
}

use greeter::greeter_server::{Greeter, GreeterServer};
use greeter::{WhoAmIReply, WhoAmIRequest};

#[derive(Debug, Default)]
struct WhoAmI;

#[tonic::async_trait]
impl Greeter for WhoAmI {
    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIReply>, Status> {
        // AuthLayer let the call through, so the subject is there.
        let subject = request.subject().ok_or_else(|| {
            Status::unauthenticated("Authentication credentials were not provided.")
        })?;
        Ok(Response::new(WhoAmIReply {
            username: subject.username.clone(),
            user_id: subject.id.clone(),
        }))
    }
}

/// Serves the gRPC service on `listener` until the task is dropped.
pub async fn serve_grpc(
    listener: tokio::net::TcpListener,
    jwt: Jwt,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .layer(AuthLayer::new(jwt))
        .add_service(GreeterServer::new(WhoAmI))
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
        .await
}
