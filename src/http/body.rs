//! [`ResponseBody`]: the inner service's body, or one of ours.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;

pin_project! {
    /// The body of a response that went through one of this crate's layers:
    /// either the inner service's body untouched, or a JSON body the layer
    /// wrote itself (an endpoint's answer or an error).
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body::Body;
    /// use http_body_util::Full;
    /// use tower_simplejwt::http::ResponseBody;
    ///
    /// let body: ResponseBody<Full<bytes::Bytes>> = ResponseBody::inner(Full::from("hello"));
    /// assert_eq!(body.size_hint().exact(), Some(5));
    /// ```
    #[project = ResponseBodyProj]
    #[derive(Debug)]
    // pin-project-lite takes no docs on variant fields; each is the variant's body.
    #[allow(missing_docs)]
    pub enum ResponseBody<B> {
        /// A body written by the layer.
        Own { #[pin] body: Full<Bytes> },
        /// The inner service's body.
        Inner { #[pin] body: B },
    }
}

impl<B> ResponseBody<B> {
    /// Wraps the inner service's body.
    pub fn inner(body: B) -> Self {
        ResponseBody::Inner { body }
    }

    /// A body of the layer's own.
    pub fn own(body: Full<Bytes>) -> Self {
        ResponseBody::Own { body }
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            ResponseBodyProj::Own { body } => match body.poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            ResponseBodyProj::Inner { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Own { body } => body.is_end_stream(),
            ResponseBody::Inner { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Own { body } => body.size_hint(),
            ResponseBody::Inner { body } => body.size_hint(),
        }
    }
}
