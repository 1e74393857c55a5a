//! The generator that builds the docs into a site (Sphinx, `MkDocs`, Docusaurus), and how it resolves a link
//! that is not a file as written: from the site's root, without the page's extension, or as a reference it
//! owns (a Sphinx label or object).

use std::fs;
use std::path::Path;

use super::paths::normalize;

/// A docs site generator, with the folder its pages live in (relative to the project).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Site {
    /// `conf.py` in the folder: reStructuredText and `MyST` pages; `[text](target)` may name a label or an object.
    Sphinx { source: String },
    /// `mkdocs.yml` with its `docs_dir`.
    MkDocs { docs: String },
    /// `docusaurus.config.*`: pages in `docs/`, files served from `static/`.
    Docusaurus,
}

/// Page extensions a generator adds to an extensionless link.
const PAGE_EXTENSIONS: &[&str] = &["md", "mdx", "rst", "ipynb", "txt"];
/// Extensions of files a link names as such; any other "extension" (`attrs.frozen`) is part of a name.
const FILE_EXTENSIONS: &[&str] = &[
    "md", "mdx", "rst", "txt", "html", "htm", "ipynb", "png", "jpg", "jpeg", "gif", "svg", "webp",
    "ico", "pdf", "css", "js", "json", "yaml", "yml", "toml", "py", "rs", "go", "ts", "sh", "zip",
    "gz", "csv", "xml", "ini", "cfg", "lock", "mp4", "webm",
];

impl Site {
    /// The generator that builds the project's docs, if one does.
    pub(super) fn detect(root: &Path) -> Option<Site> {
        for config in [
            "docusaurus.config.js",
            "docusaurus.config.ts",
            "docusaurus.config.mjs",
        ] {
            if root.join(config).is_file() {
                return Some(Site::Docusaurus);
            }
        }
        for name in ["mkdocs.yml", "mkdocs.yaml"] {
            if let Ok(text) = fs::read_to_string(root.join(name)) {
                let docs = text
                    .lines()
                    .find_map(|l| l.strip_prefix("docs_dir:"))
                    .map_or("docs", |d| d.trim().trim_matches(['"', '\'']))
                    .trim_end_matches('/')
                    .to_owned();
                return Some(Site::MkDocs { docs });
            }
        }
        for source in ["docs", "doc", "docs/source", "doc/source", ""] {
            let conf = if source.is_empty() {
                "conf.py".to_owned()
            } else {
                format!("{source}/conf.py")
            };
            if root.join(&conf).is_file() {
                return Some(Site::Sphinx {
                    source: source.to_owned(),
                });
            }
        }
        None
    }

    /// Whether the site builds `doc` into a page (a doc outside its folder is read on the forge).
    pub(super) fn builds(&self, doc: &str) -> bool {
        let under = |folder: &str| folder.is_empty() || doc.starts_with(&format!("{folder}/"));
        match self {
            Site::Sphinx { source } => under(source),
            Site::MkDocs { docs } => under(docs),
            Site::Docusaurus => ["docs", "blog", "src/pages", "versioned_docs"]
                .iter()
                .any(|folder| under(folder)),
        }
    }

    /// Whether the site resolves the link `target` (as written, without its `#anchor`) of the doc `doc`,
    /// which does not exist as a file: as a page without its extension, from the site's root, or as a
    /// reference the generator owns. `exists` tells whether a project path exists.
    pub(super) fn resolves(&self, doc: &str, target: &str, exists: &dyn Fn(&str) -> bool) -> bool {
        let dir = doc.rsplit_once('/').map_or("", |(dir, _)| dir);
        let written = target.trim_end_matches('/');
        let last = written.rsplit('/').next().unwrap_or(written);
        let extension = last
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase());
        let named_file = extension
            .as_deref()
            .is_some_and(|ext| FILE_EXTENSIONS.contains(&ext));
        // Sphinx (MyST) reads `[text](target)` that is no file as a cross-reference: a label, a document
        // name or an object (`attrs.frozen`); whether it exists is Sphinx's to say.
        if matches!(self, Site::Sphinx { .. }) && !named_file {
            return true;
        }
        let mut bases: Vec<String> = Vec::new();
        if written.starts_with('/') {
            match self {
                Site::Sphinx { source } => bases.push(source.clone()),
                Site::MkDocs { docs } => bases.push(docs.clone()),
                Site::Docusaurus => bases.extend(["static".to_owned(), String::new()]),
            }
        } else {
            bases.push(dir.to_owned());
            // MkDocs serves `dir/page.md` at `dir/page/`: a link written for the browser resolves from there.
            if let Site::MkDocs { .. } = self
                && let Some(stem) = doc
                    .rsplit('/')
                    .next()
                    .and_then(|name| name.strip_suffix(".md"))
                    .filter(|stem| !matches!(*stem, "index" | "README"))
            {
                bases.push(if dir.is_empty() {
                    stem.to_owned()
                } else {
                    format!("{dir}/{stem}")
                });
            }
        }
        let path = written.trim_start_matches('/');
        bases.iter().any(|base| {
            let Some(rel) = normalize(base, path) else {
                return false;
            };
            // A link to the built page (`api.html`) names the page it is built from.
            let built = rel
                .strip_suffix(".html")
                .filter(|_| !matches!(self, Site::Docusaurus))
                .is_some_and(|stem| {
                    PAGE_EXTENSIONS
                        .iter()
                        .any(|ext| exists(&format!("{stem}.{ext}")))
                });
            exists(&rel)
                || built
                || (!named_file
                    && PAGE_EXTENSIONS.iter().any(|ext| {
                        exists(&format!("{rel}.{ext}"))
                            || exists(&format!("{rel}/index.{ext}"))
                            || exists(&format!("{rel}/README.{ext}"))
                    }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &'static [&'static str]) -> impl Fn(&str) -> bool {
        move |rel: &str| list.contains(&rel)
    }

    #[test]
    fn sphinx_owns_references_and_resolves_from_its_source_folder() {
        let site = Site::Sphinx {
            source: "docs".to_owned(),
        };
        let exists = files(&["docs/_static/logo.png", "docs/advanced/transports.md"]);
        // MyST cross-references: labels, objects, documents.
        assert!(site.resolves("docs/init.md", "attrs.frozen", &exists));
        assert!(site.resolves("docs/init.md", "labels/x", &exists));
        assert!(site.resolves("docs/a/b.md", "../advanced/transports", &exists));
        // Files named as such must be there.
        assert!(site.resolves("docs/a/b.md", "/_static/logo.png", &exists));
        assert!(!site.resolves("docs/a/b.md", "/_static/gone.png", &exists));
        assert!(!site.resolves("docs/a/b.md", "missing.md", &exists));
        // The built page of a source page.
        assert!(site.resolves("docs/index.md", "advanced/transports.html", &exists));
        assert!(!site.resolves("docs/index.md", "advanced/gone.html", &exists));
    }

    #[test]
    fn mkdocs_resolves_pages_without_extension_from_the_page_url_and_the_docs_root() {
        let site = Site::MkDocs {
            docs: "docs".to_owned(),
        };
        let exists = files(&[
            "docs/img/logo.svg",
            "docs/advanced/transports.md",
            "docs/api/index.md",
        ]);
        assert!(site.resolves("docs/quickstart.md", "/img/logo.svg", &exists));
        assert!(site.resolves("docs/quickstart.md", "advanced/transports", &exists));
        // Written for the browser: `docs/quickstart.md` is served at `quickstart/`.
        assert!(site.resolves("docs/quickstart.md", "../advanced/transports/", &exists));
        assert!(site.resolves("docs/quickstart.md", "api/", &exists));
        assert!(!site.resolves("docs/quickstart.md", "../advanced/transport", &exists));
        assert!(!site.resolves("docs/quickstart.md", "/img/gone.svg", &exists));
    }

    #[test]
    fn docusaurus_serves_the_static_folder_at_the_root() {
        let exists = files(&["static/img/logo.png", "docs/intro.mdx"]);
        assert!(Site::Docusaurus.resolves("docs/a.md", "/img/logo.png", &exists));
        assert!(Site::Docusaurus.resolves("docs/a.md", "./intro", &exists));
        assert!(!Site::Docusaurus.resolves("docs/a.md", "./outro", &exists));
    }

    #[test]
    fn the_generator_is_found_by_its_configuration() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        assert_eq!(Site::detect(root), None);
        fs::create_dir_all(root.join("docs")).unwrap();
        fs::write(root.join("docs/conf.py"), "extensions = ['myst_parser']\n").unwrap();
        assert_eq!(
            Site::detect(root),
            Some(Site::Sphinx {
                source: "docs".to_owned()
            })
        );
        fs::write(root.join("mkdocs.yml"), "site_name: x\ndocs_dir: 'site/'\n").unwrap();
        assert_eq!(
            Site::detect(root),
            Some(Site::MkDocs {
                docs: "site".to_owned()
            })
        );
    }
}
