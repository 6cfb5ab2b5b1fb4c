//! The interactive shell: lines split into words ([`parse`]), words into
//! commands ([`command`]), commands run on an open database ([`exec`]),
//! lines read from a terminal with history or from a pipe ([`repl`]).

pub(crate) mod command;
pub(crate) mod exec;
pub(crate) mod parse;
pub(crate) mod repl;
