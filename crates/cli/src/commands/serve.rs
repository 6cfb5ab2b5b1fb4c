//! `strata serve`: the command-line flags as a [`ServerConfig`], then
//! [`strata_server::run`].

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use strata_server::{ServerConfig, TlsFiles};

use crate::cli::ServeArgs;

/// The environment variable holding the token when no `--token-file` is given.
const TOKEN_ENV: &str = "STRATA_TOKEN";

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let env_token = std::env::var(TOKEN_ENV).ok();
    let config = config(args, env_token.as_deref())?;
    strata_server::run(config)?;
    Ok(ExitCode::SUCCESS)
}

/// The server's configuration from the flags and the value of
/// `STRATA_TOKEN` (the token file wins over it).
fn config(args: ServeArgs, env_token: Option<&str>) -> anyhow::Result<ServerConfig> {
    let token = match (&args.token_file, env_token) {
        (Some(file), _) => Some(read_token_file(file)?),
        (None, Some(value)) => Some(check_token(value, TOKEN_ENV)?),
        (None, None) => None,
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        // clap's `requires` rules this out; say so rather than guess.
        _ => bail!("--tls-cert and --tls-key go together"),
    };
    let defaults = ServerConfig::default();
    let mut options = defaults.options.clone();
    if let Some(bytes) = args.memtable_bytes {
        options = options.memtable_size(bytes);
    }
    if let Some(bytes) = args.block_cache_bytes {
        options = options.block_cache_bytes(bytes);
    }
    Ok(ServerConfig {
        data_dir: args.data.data_dir,
        addr: args.addr,
        token,
        tls,
        max_body_bytes: args.max_body_bytes.unwrap_or(defaults.max_body_bytes),
        header_timeout: args.header_timeout.unwrap_or(defaults.header_timeout),
        stall_timeout: args.stall_timeout.unwrap_or(defaults.stall_timeout),
        max_connections: args.max_connections.map_or(defaults.max_connections, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        }),
        engine_threads: args.engine_threads.map_or(defaults.engine_threads, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        }),
        options,
        ..defaults
    })
}

fn read_token_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    check_token(&text, &format!("the token file {}", path.display()))
}

/// `raw` without its trailing newline, if it is a usable token.
fn check_token(raw: &str, source: &str) -> anyhow::Result<String> {
    let token = raw.trim_end_matches(['\n', '\r']);
    if token.is_empty() {
        bail!("{source} is empty: a token must have at least one character");
    }
    if token.chars().any(|c| c.is_control()) {
        bail!("{source} holds a control character: a token must fit in one HTTP header line");
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> ServeArgs {
        let cli = Cli::try_parse_from([&["strata", "serve"], args].concat()).unwrap();
        match cli.command {
            Command::Serve(args) => args,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_servers() {
        let c = config(parse(&[]), None).unwrap();
        let d = ServerConfig::default();
        assert_eq!(c.data_dir, d.data_dir);
        assert_eq!(c.addr, d.addr);
        assert_eq!(c.max_body_bytes, d.max_body_bytes);
        assert_eq!(c.header_timeout, d.header_timeout);
        assert_eq!(c.stall_timeout, d.stall_timeout);
        assert_eq!(c.max_connections, d.max_connections);
        assert_eq!(c.engine_threads, d.engine_threads);
        assert_eq!(c.options.get_memtable_size(), d.options.get_memtable_size());
        assert!(c.token.is_none() && c.tls.is_none());
    }

    #[test]
    fn flags_reach_the_config() {
        let c = config(
            parse(&[
                "--data-dir=/tmp/x",
                "--addr=0.0.0.0:9000",
                "--tls-cert=c.pem",
                "--tls-key=k.pem",
                "--max-body-bytes=1024",
                "--header-timeout=1500ms",
                "--stall-timeout=2m",
                "--max-connections=7",
                "--engine-threads=3",
                "--memtable-bytes=65536",
                "--block-cache-bytes=1048576",
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.data_dir, Path::new("/tmp/x"));
        assert_eq!(c.addr.to_string(), "0.0.0.0:9000");
        let tls = c.tls.unwrap();
        assert_eq!(
            (tls.cert.to_str(), tls.key.to_str()),
            (Some("c.pem"), Some("k.pem"))
        );
        assert_eq!(c.max_body_bytes, 1024);
        assert_eq!(c.header_timeout, std::time::Duration::from_millis(1500));
        assert_eq!(c.stall_timeout, std::time::Duration::from_secs(120));
        assert_eq!(c.max_connections, 7);
        assert_eq!(c.engine_threads, 3);
        assert_eq!(c.options.get_memtable_size(), 65536);
        // No getter for the cache size: its Debug output shows it.
        assert!(
            format!("{:?}", c.options).contains("block_cache_bytes: 1048576"),
            "{:?}",
            c.options
        );
    }

    #[test]
    fn zero_connections_and_zero_timeouts_are_usage_errors() {
        for bad in [
            "--max-connections=0",
            "--header-timeout=0",
            "--stall-timeout=5x",
        ] {
            let err = Cli::try_parse_from(["strata", "serve", bad]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn tls_needs_both_files() {
        let err = Cli::try_parse_from(["strata", "serve", "--tls-cert=c.pem"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn the_token_file_wins_over_the_environment_and_loses_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "s3cret\r\n").unwrap();
        let arg = format!("--token-file={}", file.display());
        let c = config(parse(&[&arg]), Some("from-env")).unwrap();
        assert_eq!(c.token.as_deref(), Some("s3cret"));
        let c = config(parse(&[]), Some("from-env\n")).unwrap();
        assert_eq!(c.token.as_deref(), Some("from-env"));
    }

    #[test]
    fn empty_or_unreadable_tokens_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "\n").unwrap();
        let arg = format!("--token-file={}", file.display());
        let err = config(parse(&[&arg]), None).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
        let err = config(parse(&[]), Some("")).unwrap_err().to_string();
        assert!(err.contains("STRATA_TOKEN is empty"), "{err}");
        let err = config(parse(&[]), Some("a\tb")).unwrap_err().to_string();
        assert!(err.contains("control character"), "{err}");
        let missing = format!("--token-file={}", dir.path().join("nope").display());
        let err = config(parse(&[&missing]), None).unwrap_err().to_string();
        assert!(err.contains("cannot read the token file"), "{err}");
    }
}
