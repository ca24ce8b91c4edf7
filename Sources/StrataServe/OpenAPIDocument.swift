/// The API's OpenAPI 3.1 document, served at `/openapi.json` and printed by `strata serve --openapi`. The
/// committed `Sources/StrataServe/openapi.json` is this text; tools/test_serve.py checks that they agree.
public enum OpenAPIDocument {
    public static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Strata serve",
    "version": "0.12.0",
    "summary": "Online features, churn scores, the model registry and a dashboard over one Strata store.",
    "description": "`strata serve` answers from the store's latest committed version and follows new commits.\n\n- JSON keys are snake_case. JSON and HTML answers carry `Cache-Control: no-store`.\n- Errors from the API are `{\"error\": CODE, \"detail\": TEXT}` with status 400, 401, 404, 405, 408, 413, 500 or 503.\n- Request bodies: one JSON object of at most 1 MiB, sent within 10 s (a `Content-Length` over 1 MiB is refused at once); bodies nesting deeper than 6 levels are refused; unknown fields are rejected; `Content-Type` is not checked.\n- A method a path does not list is answered 405 `method_not_allowed` with an `Allow` header; HEAD is served wherever GET is.\n- Requests the HTTP parser refuses (request line and headers over about 80 KB, malformed framing) get 400 with an empty body and the connection closes."
  },
  "servers": [
    {
      "url": "http://127.0.0.1:8080",
      "description": "The default `--listen`."
    }
  ],
  "security": [
    {
      "bearerAuth": []
    },
    {
      "tokenCookie": []
    }
  ],
  "tags": [
    {
      "name": "health",
      "description": "Liveness, readiness, metrics, this document."
    },
    {
      "name": "features",
      "description": "Feature vectors by msno."
    },
    {
      "name": "scoring",
      "description": "Churn probability, bucket and reasons."
    },
    {
      "name": "registry",
      "description": "Models, runs and tables of the store."
    },
    {
      "name": "admin",
      "description": "Registry changes, with --allow-admin only."
    },
    {
      "name": "dashboard",
      "description": "Server-rendered HTML pages."
    }
  ],
  "paths": {
    "/healthz": {
      "get": {
        "tags": [
          "health"
        ],
        "summary": "Liveness",
        "description": "Answers while the process serves requests. Never needs the token.",
        "operationId": "getHealth",
        "security": [],
        "responses": {
          "200": {
            "description": "Alive.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                },
                "example": {
                  "status": "alive"
                }
              }
            }
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "tags": [
          "health"
        ],
        "summary": "Readiness",
        "description": "Ready when a production model is loaded and its feature view's online table can feed it.",
        "operationId": "getReady",
        "responses": {
          "200": {
            "description": "Ready.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Ready"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          },
          "503": {
            "description": "Not ready (`not_ready`); the detail says what is missing.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "tags": [
          "health"
        ],
        "summary": "Prometheus metrics",
        "description": "Request counts, errors and latency by route, the store and model versions served, and the serving log queue, in the Prometheus text format 0.0.4.",
        "operationId": "getMetrics",
        "responses": {
          "200": {
            "description": "Metrics (`text/plain; version=0.0.4; charset=utf-8`).",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "tags": [
          "health"
        ],
        "summary": "This document",
        "operationId": "getOpenAPI",
        "responses": {
          "200": {
            "description": "The OpenAPI document.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/v1/features/{msno}": {
      "get": {
        "tags": [
          "features"
        ],
        "summary": "Feature vector of one user",
        "description": "Reads the online table when it answers for the day, else computes the vector point-in-time. Query parameters other than `view` and `as_of` are answered 400.",
        "operationId": "getFeatureVector",
        "parameters": [
          {
            "name": "msno",
            "in": "path",
            "required": true,
            "description": "The user id, percent-encoded (base64 ids hold `/` and `+`: send `%2F` and `%2B`).",
            "schema": {
              "type": "string",
              "minLength": 1
            }
          },
          {
            "name": "view",
            "in": "query",
            "required": false,
            "description": "Feature view; absent: the serving model's view, else the only registered view.",
            "schema": {
              "$ref": "#/components/schemas/Name"
            }
          },
          {
            "name": "as_of",
            "in": "query",
            "required": false,
            "description": "Day the vector is as of; absent: the online table's day. Another day computes it point-in-time.",
            "schema": {
              "$ref": "#/components/schemas/DateInput"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The user's vector.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FeatureVector"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest",
            "description": "Bad percent-encoding, unknown query parameter, invalid view name or date, or no view given when several are registered."
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound",
            "description": "The user has no vector, the view is not registered, or the view has no online table and no `as_of` was given."
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          },
          "503": {
            "$ref": "#/components/responses/Busy"
          }
        }
      }
    },
    "/v1/features": {
      "post": {
        "tags": [
          "features"
        ],
        "summary": "Feature vectors of up to 1000 users",
        "description": "One view and one day for all users: the online table when it answers for the day, else computed point-in-time.",
        "operationId": "postFeatureVectors",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/FeaturesRequest"
              },
              "example": {
                "msno": [
                  "05Ikj20hUMpBWkxgn88OyELMhcJvdtlrUPEF8ZdohVk="
                ],
                "as_of": "2017-04-01"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Vectors found and ids not found.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/FeatureVectors"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound",
            "description": "The view is not registered, or it has no online table and no `as_of` was given."
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "408": {
            "$ref": "#/components/responses/Timeout"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          },
          "503": {
            "$ref": "#/components/responses/Busy"
          }
        }
      }
    },
    "/v1/score": {
      "post": {
        "tags": [
          "scoring"
        ],
        "summary": "Churn scores with reasons",
        "description": "Scores users by msno with the production model, or scores given what-if vectors. Users scored by msno are sampled into the `serving_log` table.",
        "operationId": "postScore",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ScoreRequest"
              },
              "example": {
                "msno": [
                  "05Ikj20hUMpBWkxgn88OyELMhcJvdtlrUPEF8ZdohVk="
                ],
                "explain": true
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "One result per user found or vector given.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ScoreResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest",
            "description": "Malformed body, both or neither of `msno` and `vectors`, `as_of` with `vectors`, a vector lacking a model feature or naming another, a value of the wrong type."
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound",
            "description": "None of the msno has a vector."
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "408": {
            "$ref": "#/components/responses/Timeout"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          },
          "503": {
            "description": "No production model is loaded, no usable online table for scoring by msno without `as_of` (`not_ready`), or too many computations (`busy`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/models": {
      "get": {
        "tags": [
          "registry"
        ],
        "summary": "Registered model versions",
        "operationId": "listModels",
        "responses": {
          "200": {
            "description": "The model registry.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Models"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/v1/runs": {
      "get": {
        "tags": [
          "registry"
        ],
        "summary": "Training runs",
        "operationId": "listRuns",
        "responses": {
          "200": {
            "description": "The training runs.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Runs"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/v1/tables": {
      "get": {
        "tags": [
          "registry"
        ],
        "summary": "Tables and their sizes",
        "operationId": "listTables",
        "responses": {
          "200": {
            "description": "The tables.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Tables"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/v1/admin/promote": {
      "post": {
        "tags": [
          "admin"
        ],
        "summary": "Move a model version to a stage",
        "description": "Exists only when the server runs with `--allow-admin` (which needs `--token-file`); otherwise 404. Commits a new store version; a new production version starts answering at once.",
        "operationId": "promoteModel",
        "security": [
          {
            "bearerAuth": []
          },
          {
            "tokenCookie": []
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PromoteRequest"
              },
              "example": {
                "model": "churn",
                "version": 2,
                "stage": "production"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The model's versions after the change.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PromoteResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest",
            "description": "Malformed body, invalid model name, version or stage, or no such model or version."
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound",
            "description": "The server runs without `--allow-admin`."
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "408": {
            "$ref": "#/components/responses/Timeout"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "500": {
            "$ref": "#/components/responses/Internal",
            "description": "The server failed, e.g. another writer held the store's lock for over 5 s (`internal`)."
          },
          "503": {
            "$ref": "#/components/responses/Busy"
          }
        }
      }
    },
    "/": {
      "get": {
        "tags": [
          "dashboard"
        ],
        "summary": "Dashboard: overview",
        "description": "Tables, models, online tables, route latency and the serving log.",
        "operationId": "dashboardOverview",
        "responses": {
          "200": {
            "description": "The page.",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/runs": {
      "get": {
        "tags": [
          "dashboard"
        ],
        "summary": "Dashboard: training runs",
        "description": "Runs, and a comparison of two of them (default: the latest two). Other query parameters are ignored.",
        "operationId": "dashboardRuns",
        "parameters": [
          {
            "name": "a",
            "in": "query",
            "required": false,
            "description": "Run id to compare from.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "b",
            "in": "query",
            "required": false,
            "description": "Run id to compare to.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The page.",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound",
            "description": "`a` or `b` names no run (checked only when the two differ)."
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/scoring": {
      "get": {
        "tags": [
          "dashboard"
        ],
        "summary": "Dashboard: scoring",
        "description": "Buckets and riskiest users of the latest predictions table.",
        "operationId": "dashboardScoring",
        "responses": {
          "200": {
            "description": "The page.",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "Enforced only when the server runs with `--token-file`: then every route but /healthz needs `Authorization: Bearer TOKEN` (the scheme word is case-sensitive)."
      },
      "tokenCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "strata_token",
        "description": "The same token in a cookie, for browsers; used when no `Authorization: Bearer` header is sent."
      }
    },
    "schemas": {
      "Error": {
        "description": "Every error the API itself answers. `detail` is for a person and may change; `error` is stable.",
        "type": "object",
        "required": [
          "error",
          "detail"
        ],
        "properties": {
          "error": {
            "description": "Short stable code.",
            "type": "string",
            "enum": [
              "bad_request",
              "unauthorized",
              "not_found",
              "method_not_allowed",
              "timeout",
              "too_large",
              "not_ready",
              "busy",
              "http_error",
              "internal"
            ]
          },
          "detail": {
            "description": "What went wrong and what to do about it.",
            "type": "string"
          }
        },
        "additionalProperties": false
      },
      "DateInput": {
        "description": "A calendar date as `YYYY-MM-DD` or `YYYYMMDD`, year 0001 to 9999; anything else is answered 400.",
        "type": "string",
        "pattern": "^(([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)-02-29|([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])((0[13578]|1[02])(0[1-9]|[12][0-9]|3[01])|(0[469]|11)(0[1-9]|[12][0-9]|30)|02(0[1-9]|1[0-9]|2[0-8]))|([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)0229)$"
      },
      "Date": {
        "description": "A calendar date as `YYYY-MM-DD`.",
        "type": "string",
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
      },
      "Name": {
        "description": "A store name: a letter or `_`, then letters, digits or `_`; at most 64 bytes.",
        "type": "string",
        "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"
      },
      "Msno": {
        "description": "A user id (msno), 1 to 256 bytes of UTF-8.",
        "type": "string",
        "minLength": 1,
        "maxLength": 256
      },
      "MsnoList": {
        "description": "1 to 1000 user ids, answered in request order, duplicates included. More than 1000 is answered 413.",
        "type": "array",
        "minItems": 1,
        "maxItems": 1000,
        "items": {
          "$ref": "#/components/schemas/Msno"
        }
      },
      "FeatureValue": {
        "description": "A feature value: a number, a string, a boolean, or null for NULL (and for a non-finite number). Dates are strings `YYYY-MM-DD`.",
        "type": [
          "number",
          "string",
          "boolean",
          "null"
        ]
      },
      "Features": {
        "description": "Feature name to value, in the feature view's column order.",
        "type": "object",
        "additionalProperties": {
          "$ref": "#/components/schemas/FeatureValue"
        }
      },
      "RecordNumber": {
        "description": "A number; a non-finite one is written as the string `nan`, `inf` or `-inf`.",
        "anyOf": [
          {
            "type": "number"
          },
          {
            "type": "string",
            "enum": [
              "nan",
              "inf",
              "-inf"
            ]
          }
        ]
      },
      "Source": {
        "description": "`online`: read from the view's online table. `computed`: computed point-in-time as of the requested day.",
        "type": "string",
        "enum": [
          "online",
          "computed"
        ]
      },
      "FeaturesRequest": {
        "type": "object",
        "required": [
          "msno"
        ],
        "properties": {
          "msno": {
            "$ref": "#/components/schemas/MsnoList"
          },
          "view": {
            "description": "Feature view; null or absent: the serving model's view, else the only registered view.",
            "type": [
              "string",
              "null"
            ],
            "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"
          },
          "as_of": {
            "description": "Day the vectors are as of; null or absent: the online table's day. Another day computes them point-in-time.",
            "anyOf": [
              {
                "$ref": "#/components/schemas/DateInput"
              },
              {
                "type": "null"
              }
            ]
          }
        },
        "additionalProperties": false
      },
      "FeatureVector": {
        "type": "object",
        "required": [
          "view",
          "view_version",
          "as_of",
          "source",
          "msno",
          "features"
        ],
        "properties": {
          "view": {
            "type": "string"
          },
          "view_version": {
            "type": "integer"
          },
          "as_of": {
            "$ref": "#/components/schemas/Date"
          },
          "source": {
            "$ref": "#/components/schemas/Source"
          },
          "msno": {
            "type": "string"
          },
          "features": {
            "$ref": "#/components/schemas/Features"
          }
        },
        "additionalProperties": false
      },
      "FeatureVectors": {
        "type": "object",
        "required": [
          "view",
          "view_version",
          "as_of",
          "source",
          "vectors",
          "unknown"
        ],
        "properties": {
          "view": {
            "type": "string"
          },
          "view_version": {
            "type": "integer"
          },
          "as_of": {
            "$ref": "#/components/schemas/Date"
          },
          "source": {
            "$ref": "#/components/schemas/Source"
          },
          "vectors": {
            "description": "The users found, in request order.",
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "msno",
                "features"
              ],
              "properties": {
                "msno": {
                  "type": "string"
                },
                "features": {
                  "$ref": "#/components/schemas/Features"
                }
              },
              "additionalProperties": false
            }
          },
          "unknown": {
            "description": "Requested ids with no vector, in request order.",
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        },
        "additionalProperties": false
      },
      "ScoreRequest": {
        "description": "Either `msno` (vectors looked up) or `vectors` (given what-if vectors), never both, not even as null.",
        "oneOf": [
          {
            "$ref": "#/components/schemas/ScoreByMsno"
          },
          {
            "$ref": "#/components/schemas/ScoreByVectors"
          }
        ]
      },
      "ScoreByMsno": {
        "type": "object",
        "required": [
          "msno"
        ],
        "properties": {
          "msno": {
            "$ref": "#/components/schemas/MsnoList"
          },
          "as_of": {
            "description": "Compute the vectors point-in-time as of this day from the model's feature view version; null or absent: read the online table.",
            "anyOf": [
              {
                "$ref": "#/components/schemas/DateInput"
              },
              {
                "type": "null"
              }
            ]
          },
          "explain": {
            "description": "Return reasons; null or absent: true.",
            "type": [
              "boolean",
              "null"
            ]
          }
        },
        "additionalProperties": false
      },
      "ScoreByVectors": {
        "type": "object",
        "required": [
          "vectors"
        ],
        "properties": {
          "vectors": {
            "description": "1 to 1000 what-if vectors; more than 1000 is answered 413.",
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
              "$ref": "#/components/schemas/WhatIfVector"
            }
          },
          "explain": {
            "description": "Return reasons; null or absent: true.",
            "type": [
              "boolean",
              "null"
            ]
          }
        },
        "additionalProperties": false
      },
      "WhatIfVector": {
        "description": "Every feature of the serving model by name (null for a missing value) and nothing else but an optional `msno` label. Each value must suit the feature's type: a number for numeric features (an integral number for integer ones), a string for string features, `YYYY-MM-DD`, `YYYYMMDD` or an integer YYYYMMDD for dates, a boolean or integer for booleans. Otherwise 400.",
        "type": "object",
        "properties": {
          "msno": {
            "description": "Echoed in the result; not looked up, not logged.",
            "type": [
              "string",
              "null"
            ]
          }
        },
        "additionalProperties": {
          "$ref": "#/components/schemas/FeatureValue"
        }
      },
      "Reason": {
        "type": "object",
        "required": [
          "feature",
          "value",
          "contribution"
        ],
        "properties": {
          "feature": {
            "type": "string"
          },
          "value": {
            "description": "The feature's value as text; null when NULL.",
            "type": [
              "string",
              "null"
            ]
          },
          "contribution": {
            "description": "Contribution to the score (log-odds); null if not finite.",
            "type": [
              "number",
              "null"
            ]
          }
        },
        "additionalProperties": false
      },
      "ScoreResult": {
        "type": "object",
        "required": [
          "churn_probability",
          "bucket",
          "reasons"
        ],
        "properties": {
          "msno": {
            "description": "Present when the request gave an msno (looked up, or a vector's `msno`).",
            "type": "string"
          },
          "churn_probability": {
            "description": "Probability of churn (null only if not finite).",
            "type": [
              "number",
              "null"
            ],
            "minimum": 0,
            "maximum": 1
          },
          "bucket": {
            "description": "A: at or above the A threshold; B: at or above the B threshold; C: below.",
            "type": "string",
            "enum": [
              "A",
              "B",
              "C"
            ]
          },
          "reasons": {
            "description": "The features that raised the score most (up to three), largest first; null when `explain` is false.",
            "type": [
              "array",
              "null"
            ],
            "items": {
              "$ref": "#/components/schemas/Reason"
            }
          }
        },
        "additionalProperties": false
      },
      "ScoreResponse": {
        "type": "object",
        "required": [
          "model",
          "results",
          "unknown"
        ],
        "properties": {
          "model": {
            "description": "The model version that scored, `NAME@VERSION`.",
            "type": "string"
          },
          "results": {
            "description": "One per user found or vector given, in request order.",
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ScoreResult"
            }
          },
          "unknown": {
            "description": "Requested ids with no vector (always empty for given vectors).",
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        },
        "additionalProperties": false
      },
      "Health": {
        "type": "object",
        "required": [
          "status"
        ],
        "properties": {
          "status": {
            "type": "string",
            "const": "alive"
          }
        },
        "additionalProperties": false
      },
      "Ready": {
        "type": "object",
        "required": [
          "as_of",
          "model",
          "status",
          "store_version",
          "view",
          "view_version"
        ],
        "properties": {
          "as_of": {
            "allOf": [
              {
                "$ref": "#/components/schemas/Date"
              }
            ],
            "description": "Day of the online table scoring reads."
          },
          "model": {
            "description": "`NAME@VERSION` of the production model.",
            "type": "string"
          },
          "status": {
            "type": "string",
            "const": "ready"
          },
          "store_version": {
            "type": "integer"
          },
          "view": {
            "type": "string"
          },
          "view_version": {
            "type": "integer"
          }
        },
        "additionalProperties": false
      },
      "ModelListing": {
        "type": "object",
        "required": [
          "model",
          "run",
          "stage",
          "updated_at",
          "version"
        ],
        "properties": {
          "model": {
            "type": "string"
          },
          "run": {
            "type": "string"
          },
          "stage": {
            "$ref": "#/components/schemas/Stage"
          },
          "test_auc": {
            "allOf": [
              {
                "$ref": "#/components/schemas/RecordNumber"
              }
            ],
            "description": "Absent when the run has none."
          },
          "updated_at": {
            "description": "UTC timestamp.",
            "type": "string"
          },
          "version": {
            "type": "integer"
          }
        },
        "additionalProperties": false
      },
      "Models": {
        "type": "object",
        "required": [
          "models",
          "store_version"
        ],
        "properties": {
          "models": {
            "description": "Every registered version, by model name then version.",
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ModelListing"
            }
          },
          "serving": {
            "description": "`NAME@VERSION` answering /v1/score; absent when none is loaded.",
            "type": "string"
          },
          "store_version": {
            "type": "integer"
          }
        },
        "additionalProperties": false
      },
      "RunListing": {
        "type": "object",
        "required": [
          "created_at",
          "model",
          "run",
          "seconds",
          "test_log_loss",
          "train_rows",
          "training_set"
        ],
        "properties": {
          "created_at": {
            "description": "UTC timestamp.",
            "type": "string"
          },
          "model": {
            "description": "Model kind.",
            "type": "string"
          },
          "run": {
            "type": "string"
          },
          "seconds": {
            "$ref": "#/components/schemas/RecordNumber"
          },
          "test_auc": {
            "allOf": [
              {
                "$ref": "#/components/schemas/RecordNumber"
              }
            ],
            "description": "Absent when undefined."
          },
          "test_log_loss": {
            "$ref": "#/components/schemas/RecordNumber"
          },
          "train_rows": {
            "type": "integer"
          },
          "training_set": {
            "type": "string"
          }
        },
        "additionalProperties": false
      },
      "Runs": {
        "type": "object",
        "required": [
          "runs",
          "store_version"
        ],
        "properties": {
          "runs": {
            "description": "Every training run, oldest first.",
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/RunListing"
            }
          },
          "store_version": {
            "type": "integer"
          }
        },
        "additionalProperties": false
      },
      "TableListing": {
        "type": "object",
        "required": [
          "bytes",
          "kind",
          "partitions",
          "rows",
          "segments",
          "table"
        ],
        "properties": {
          "bytes": {
            "description": "Stored bytes.",
            "type": "integer"
          },
          "csv_bytes": {
            "description": "Bytes of the CSV ingested; absent for derived tables.",
            "type": "integer"
          },
          "kind": {
            "type": "string",
            "enum": [
              "ingested",
              "derived"
            ]
          },
          "partitions": {
            "type": "integer"
          },
          "ratio": {
            "allOf": [
              {
                "$ref": "#/components/schemas/RecordNumber"
              }
            ],
            "description": "Stored bytes over CSV bytes; absent without CSV bytes."
          },
          "rows": {
            "type": "integer"
          },
          "segments": {
            "type": "integer"
          },
          "table": {
            "type": "string"
          }
        },
        "additionalProperties": false
      },
      "Tables": {
        "type": "object",
        "required": [
          "entities",
          "store_version",
          "tables"
        ],
        "properties": {
          "entities": {
            "description": "Distinct msno known to the store.",
            "type": "integer"
          },
          "store_version": {
            "type": "integer"
          },
          "tables": {
            "description": "Every table, by name.",
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/TableListing"
            }
          }
        },
        "additionalProperties": false
      },
      "Stage": {
        "type": "string",
        "enum": [
          "none",
          "staging",
          "production",
          "archived"
        ]
      },
      "PromoteRequest": {
        "type": "object",
        "required": [
          "model",
          "version",
          "stage"
        ],
        "properties": {
          "model": {
            "$ref": "#/components/schemas/Name"
          },
          "version": {
            "description": "An integral number (2 and 2.0 both do).",
            "type": "integer",
            "minimum": 1,
            "maximum": 2147483646
          },
          "stage": {
            "allOf": [
              {
                "$ref": "#/components/schemas/Stage"
              }
            ],
            "description": "Promoting to production archives the model's previous production version."
          }
        },
        "additionalProperties": false
      },
      "ModelVersion": {
        "type": "object",
        "required": [
          "run_id",
          "stage",
          "updated_at",
          "version"
        ],
        "properties": {
          "run_id": {
            "type": "string"
          },
          "stage": {
            "$ref": "#/components/schemas/Stage"
          },
          "updated_at": {
            "description": "UTC timestamp.",
            "type": "string"
          },
          "version": {
            "type": "integer"
          }
        },
        "additionalProperties": false
      },
      "PromoteResponse": {
        "type": "object",
        "required": [
          "model",
          "versions"
        ],
        "properties": {
          "model": {
            "type": "string"
          },
          "versions": {
            "description": "Every version of the model after the change.",
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ModelVersion"
            }
          }
        },
        "additionalProperties": false
      }
    },
    "responses": {
      "BadRequest": {
        "description": "The request is malformed: body not a JSON object, unknown field, wrong type, invalid name or date.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "The server has a token and the request did not present it.",
        "headers": {
          "WWW-Authenticate": {
            "description": "`Bearer realm=\"strata\"`",
            "schema": {
              "type": "string"
            }
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotFound": {
        "description": "Nothing found.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Timeout": {
        "description": "The request body did not arrive within 10 s (`timeout`).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooLarge": {
        "description": "The body is over 1 MiB (1048576 bytes), or lists more than 1000 users or vectors (`too_large`).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Busy": {
        "description": "Too many point-in-time computations are running or waiting (`busy`); retry shortly.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Internal": {
        "description": "The server failed (`internal`); the detail is in its log.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "MethodNotAllowed": {
        "description": "The path exists but does not take this method; `Allow` lists the methods it takes.",
        "headers": {
          "Allow": {
            "description": "The methods this path takes.",
            "schema": {
              "type": "string"
            }
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    }
  }
}
"""#
}
