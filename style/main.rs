//! `tollgate-style OUT.css`: compiles the utility classes used under `app/src` into one
//! stylesheet with encre-css (Tailwind-compatible), after the hand-written `base.css`.
//! Runs at build time; the site never fetches styles from anywhere else.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_sources(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let Some(output) = std::env::args().nth(1) else {
        eprintln!("usage: tollgate-style OUT.css");
        return ExitCode::from(2);
    };
    // The checkout it runs in (the build script runs it from the workspace root). Not the
    // directory it was compiled in: a shared target dir may hold a binary built in another
    // clone, which cargo rightly considers fresh.
    let root = match std::env::current_dir() {
        Ok(dir) if dir.join("app/src").is_dir() => dir,
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
    };
    let mut files = Vec::new();
    if let Err(err) = rust_sources(&root.join("app/src"), &mut files) {
        eprintln!("error: cannot read app/src: {err}");
        return ExitCode::FAILURE;
    }
    files.sort();
    let mut sources = Vec::with_capacity(files.len());
    for file in &files {
        match std::fs::read_to_string(file) {
            Ok(text) => sources.push(text),
            Err(err) => {
                eprintln!("error: cannot read {}: {err}", file.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let base = match std::fs::read_to_string(root.join("style/base.css")) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: cannot read style/base.css: {err}");
            return ExitCode::FAILURE;
        }
    };
    let config = encre_css::Config::default();
    let utilities = encre_css::generate(sources.iter().map(String::as_str), &config);
    if let Err(err) = std::fs::write(&output, format!("{utilities}\n{base}")) {
        eprintln!("error: cannot write {output}: {err}");
        return ExitCode::FAILURE;
    }
    println!("wrote {output} from {} source files", files.len());
    ExitCode::SUCCESS
}
