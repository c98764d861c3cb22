//! The OpenAPI 3 document, made from the same calls that register the routes:
//! `Routes::op` adds a handler to the router *and* records its method, path,
//! permission, summary and schemas (derived with schemars from the Rust types),
//! so a route cannot exist undocumented. Served at `/api/openapi.json`.

use super::AppState;
use crate::auth::Scope;
use axum::Router;
use axum::routing::MethodRouter;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The documentation of one operation.
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    /// None: public; Some(None): any signed-in caller; Some(Some(s)): needs `s`.
    pub scope: Option<Option<Scope>>,
    pub summary: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    pub body: Option<SchemaFn>,
    pub status: u16,
    pub response: Option<SchemaFn>,
    /// Content type of the success response, when not JSON.
    pub produces: Option<&'static str>,
    /// Admins only, whatever the scope says (the test endpoints).
    pub admin: bool,
}

impl Op {
    pub fn new(
        method: &'static str,
        path: &'static str,
        scope: Option<Option<Scope>>,
        summary: &'static str,
    ) -> Op {
        Op {
            method,
            path,
            scope,
            summary,
            query: &[],
            body: None,
            status: 200,
            response: None,
            produces: None,
            admin: false,
        }
    }
    /// Admins only: a signed-in admin, or a token with every scope but exec.
    pub fn admin_only(mut self) -> Op {
        self.admin = true;
        self
    }
    pub fn query(mut self, q: &'static [(&'static str, &'static str)]) -> Op {
        self.query = q;
        self
    }
    pub fn body<T: JsonSchema>(mut self) -> Op {
        self.body = Some(|g| g.subschema_for::<T>());
        self
    }
    pub fn returns<T: JsonSchema>(mut self, status: u16) -> Op {
        self.status = status;
        self.response = Some(|g| g.subschema_for::<T>());
        self
    }
    pub fn empty(mut self, status: u16) -> Op {
        self.status = status;
        self
    }
    pub fn produces(mut self, content_type: &'static str) -> Op {
        self.produces = Some(content_type);
        self
    }
}

/// A router that documents itself.
#[derive(Default)]
pub struct Routes {
    pub router: Router<AppState>,
    pub ops: Vec<Op>,
}

impl Routes {
    /// Registers `route` (one or more methods) at `op.path`, documented by `op`.
    pub fn op(mut self, route: MethodRouter<AppState>, op: Op) -> Routes {
        self.router = self.router.route(op.path, route);
        self.ops.push(op);
        self
    }

    /// Documents another method of the path registered just before.
    pub fn doc(mut self, op: Op) -> Routes {
        debug_assert_eq!(self.ops.last().map(|o| o.path), Some(op.path));
        self.ops.push(op);
        self
    }
}

/// The error body every 4xx and 5xx carries.
#[derive(serde::Serialize, JsonSchema)]
pub struct ErrorBody {
    /// Stable, e.g. `invalid`, `not_found`, `unauthorized`, `forbidden`, `csrf`.
    pub code: String,
    pub message: String,
    /// The field at fault, for `invalid`.
    pub field: Option<String>,
    pub errors: Option<Vec<crate::domain::FieldError>>,
}

/// The document; `session_cookie` is the cookie name in force (`__Host-` with
/// `--secure-cookies`), `base` the prefix the paths live under.
pub fn document(ops: &[Op], session_cookie: &str, base: &super::BasePath) -> Value {
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let error_ref = generator.subschema_for::<ErrorBody>();
    let mut paths = Map::new();
    for op in ops {
        let mut parameters: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        for (name, description) in op.query {
            parameters.push(json!({ "name": name, "in": "query", "required": false,
                                    "description": description, "schema": { "type": "string" } }));
        }
        let mut responses = Map::new();
        let ok = match (op.response, op.produces) {
            (_, Some(ct)) => {
                json!({ "description": "OK", "content": { ct: { "schema": { "type": "string" } } } })
            }
            (Some(f), None) => {
                json!({ "description": "OK", "content": { "application/json": { "schema": f(&mut generator) } } })
            }
            (None, None) => json!({ "description": "Done" }),
        };
        responses.insert(op.status.to_string(), ok);
        let error = json!({ "description": "Error", "content": { "application/json": { "schema": error_ref } } });
        // Every status an error can have: the service's kinds (422, 404, 409,
        // 401, 403, 502, 503, 500) and the edge's own (413 body too large, 429
        // sign-in rate limit, 503 no answer in time).
        let mut errors = vec![
            "400", "404", "409", "413", "422", "429", "500", "502", "503",
        ];
        if op.scope.is_some() || op.path == "/api/cron/backup" {
            errors.extend(["401", "403"]);
        }
        for code in errors {
            responses.insert(code.to_string(), error.clone());
        }
        let mut operation = json!({
            "summary": op.summary,
            "operationId": format!("{}{}", op.method.to_lowercase(), op.path.replace(['/', '{', '}'], "_")),
            "parameters": parameters,
            "responses": responses,
        });
        // Machine-readable permission, for clients and the route inventory test:
        // "public", "signed-in", or a scope name.
        operation["x-sauve-scope"] = json!(match op.scope {
            _ if op.admin => "admin",
            None => "public",
            Some(None) => "signed-in",
            Some(Some(s)) => s.as_str(),
        });
        match op.scope {
            None => operation["security"] = json!([]),
            Some(_) if op.admin => {
                operation["description"] = json!(
                    "Admins only (a signed-in admin, or a token with every scope but exec); rate-limited per caller."
                );
            }
            Some(scope) => {
                operation["description"] = json!(match scope {
                    Some(s) => format!("Needs the `{}` permission.", s.as_str()),
                    None => "Any signed-in caller.".to_string(),
                });
            }
        }
        if let Some(f) = op.body {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": f(&mut generator) } } });
        }
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method.to_lowercase()] = operation;
    }
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Sauve API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Scheduled, verified backups. Authenticate with `Authorization: Bearer <token>` (sauve token create) or a session cookie from POST /login plus the X-CSRF-Token header on changes."
        },
        "paths": paths,
        "components": {
            "schemas": generator.take_definitions(true),
            "securitySchemes": {
                "token": { "type": "http", "scheme": "bearer" },
                "session": { "type": "apiKey", "in": "cookie", "name": session_cookie }
            }
        },
        "security": [{ "token": [] }, { "session": [] }]
    });
    if !base.is_root() {
        // Relative to where the document was fetched: the proxy's host.
        doc["servers"] = json!([{ "url": base.as_str() }]);
    }
    doc
}
