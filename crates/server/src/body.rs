//! Request bodies read whole, up to the configured limit, from clients that
//! keep sending.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::StatusCode;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use hyper::body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::error::ApiError;

/// Reads `body` into memory, refusing more than `limit` bytes and a client
/// that sends nothing for `stall` in the middle of it.
///
/// # Errors
/// 413 `body_too_large` above the limit (a declared `Content-Length` over
/// it is refused before anything is read); 408 `body_timeout` if no byte
/// arrived for `stall`; 400 `bad_body` if the client breaks off or sends a
/// malformed body.
pub(crate) async fn read_limited(
    body: Body,
    limit: usize,
    stall: Duration,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    };
    if usize::try_from(body.size_hint().lower()).map_or(true, |n| n > limit) {
        return Err(too_large());
    }
    match Limited::new(StallGuard::new(body, stall), limit)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) if e.downcast_ref::<Stalled>().is_some() => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("{e}: the request body stopped arriving"),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("cannot read the request body: {e}"),
        )),
    }
}

/// The error of a body that sent nothing for the stall timeout.
#[derive(Debug, thiserror::Error)]
#[error("no body bytes arrived for {0:?}")]
struct Stalled(Duration);

/// A body that fails with [`Stalled`] once it has been waited on for
/// `stall` without yielding a frame. The clock restarts at every frame, so
/// a slow but steady upload is fine.
struct StallGuard {
    inner: Body,
    stall: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl StallGuard {
    fn new(inner: Body, stall: Duration) -> Self {
        Self {
            inner,
            stall,
            deadline: Box::pin(tokio::time::sleep(stall)),
        }
    }
}

impl HttpBody for StallGuard {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = Instant::now() + self.stall;
                self.deadline.as_mut().reset(next);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Stalled(self.stall).into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
