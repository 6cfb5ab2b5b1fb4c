//! A minimal blocking HTTP/1.1 client over one kept-alive TCP connection:
//! exactly the bytes the soak means to send, no retries, no pooling, so
//! every failure the server causes is seen as one.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An answer: status, headers (names lower-cased) and the whole body.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True if the server said it closes the connection after this answer.
    pub(crate) fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    /// The body as text, cut to `max` bytes, for failure reports.
    pub(crate) fn excerpt(&self, max: usize) -> String {
        let cut = self.body.get(..max).unwrap_or(&self.body);
        String::from_utf8_lossy(cut).into_owned()
    }
}

/// One keep-alive connection.
pub(crate) struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    /// Connects; reads and writes fail after `io_timeout` without progress.
    ///
    /// # Errors
    /// The connect error or a socket option error.
    pub(crate) fn connect(addr: SocketAddr, io_timeout: Duration) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, io_timeout)?;
        stream.set_read_timeout(Some(io_timeout))?;
        stream.set_write_timeout(Some(io_timeout))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            reader: BufReader::with_capacity(64 << 10, stream),
        })
    }

    /// Sends one request and reads its answer. `headers` are sent as
    /// given; `Host` always, and `Content-Length` whenever there is a body
    /// or the method is PUT or POST.
    ///
    /// # Errors
    /// Any I/O error, a timeout, or an answer that is not HTTP/1.1.
    pub(crate) fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        let mut request = format!("{method} {target} HTTP/1.1\r\nhost: soak\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "PUT" || method == "POST" {
            request.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        self.reader.get_mut().write_all(&bytes)?;
        read_response(&mut self.reader, method == "HEAD")?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection without answering",
            )
        })
    }
}

/// Reads one answer; `None` if the connection ended (EOF or reset) before
/// any byte of it.
///
/// # Errors
/// I/O errors other than a reset before the first byte, timeouts, and
/// answers that are not HTTP/1.x.
pub(crate) fn read_response<R: Read>(
    reader: &mut BufReader<R>,
    head_only: bool,
) -> io::Result<Option<Response>> {
    let mut line = String::new();
    match read_line(reader, &mut line) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(None),
        Err(e) => return Err(e),
    }
    let status = parse_status_line(&line)?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if read_line(reader, &mut line)? == 0 {
            return Err(bad("the connection ended inside the headers"));
        }
        let text = line.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| bad(&format!("a header line without a colon: {text:?}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(Some(response));
    }
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        response.body = read_chunked(reader)?;
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| bad(&format!("a bad Content-Length {length:?}")))?;
        response.body = vec![0; length];
        reader.read_exact(&mut response.body)?;
    } else {
        reader.read_to_end(&mut response.body)?;
    }
    Ok(Some(response))
}

/// A line of at most 64 KiB (an endless header line is an error, not an
/// out-of-memory).
fn read_line<R: Read>(reader: &mut BufReader<R>, line: &mut String) -> io::Result<usize> {
    let mut raw = Vec::new();
    let n = reader.by_ref().take(64 << 10).read_until(b'\n', &mut raw)?;
    if n == 64 << 10 && raw.last() != Some(&b'\n') {
        return Err(bad("a line over 64 KiB"));
    }
    line.push_str(&String::from_utf8_lossy(&raw));
    Ok(n)
}

fn parse_status_line(line: &str) -> io::Result<u16> {
    let mut parts = line.split(' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad(&format!("not an HTTP/1.x status line: {line:?}")));
    }
    parts
        .next()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| bad(&format!("no status code in {line:?}")))
}

fn read_chunked<R: Read>(reader: &mut BufReader<R>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        read_line(reader, &mut line)?;
        let size_text = line.trim_end_matches(['\r', '\n']);
        let size_text = size_text.split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size_text.trim(), 16)
            .map_err(|_| bad(&format!("a bad chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                line.clear();
                if read_line(reader, &mut line)? == 0 || line.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(body.get_mut(start..).unwrap_or_default())?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
    }
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// Percent-encodes every byte but unreserved ones (RFC 3986), for query
/// parameters.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> io::Result<Option<Response>> {
        read_response(&mut BufReader::new(raw), false)
    }

    #[test]
    fn lengths_chunks_and_ends() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabcEXTRA")
            .unwrap()
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abc"[..]));
        assert_eq!(r.header("x-a"), Some("b"));
        let r = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = parse(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap().unwrap();
        assert!(r.body.is_empty());
        assert!(parse(b"").unwrap().is_none());
        assert!(parse(b"SSH-2.0\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent").is_err());
    }

    #[test]
    fn encoding_keeps_only_unreserved_bytes() {
        assert_eq!(encode("s/c001/k 1~"), "s%2Fc001%2Fk%201~");
    }
}
