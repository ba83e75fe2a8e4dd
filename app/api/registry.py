"""Which dialects are mounted where (TESSERA_API_MOUNTS), and which one owns a path.

Defaults are each document's own base path (docs/dialects/). A path that two mounted
dialects would both claim is a start-up error, so one document can never silently shadow
another.
"""

from __future__ import annotations

import importlib

from flask import Flask

from app.core.api_logins import API_DIALECTS as DIALECT_IDS
from app.http.surfaces import Surface, claim
from config.settings import ConfigError


def load(dialect_id: str):
    return importlib.import_module(f"app.api.dialects.{dialect_id}").dialect


def parse_mounts(raw: str) -> dict[str, str | None]:
    """`eventchain=/v1/auth,modernauth=off` over the defaults; None means switched off."""
    mounts: dict[str, str | None] = {i: load(i).default_mount for i in DIALECT_IDS}
    for item in filter(None, (part.strip() for part in (raw or "").split(","))):
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if name not in mounts:
            raise ConfigError(f"TESSERA_API_MOUNTS names an unknown dialect {name!r}; "
                              f"known: {', '.join(DIALECT_IDS)}")
        if value.lower() == "off":
            mounts[name] = None
        elif value.startswith("/") and "//" not in value and " " not in value:
            mounts[name] = value.rstrip("/") or "/"
        else:
            raise ConfigError(f"TESSERA_API_MOUNTS: {name}={value!r} must be a path "
                              "starting with / or 'off'")
    return mounts


def _claimed_paths(dialect, mount: str) -> set[tuple[str, str]]:
    prefix = "" if mount == "/" else mount
    return {(method, prefix + route.rule) for route in dialect.routes
            for method in route.methods}


def check_conflicts(mounts: dict[str, str | None], app_paths: set[str]) -> None:
    claimed: dict[tuple[str, str], str] = {}
    for dialect_id, mount in mounts.items():
        if mount is None:
            continue
        for method, path in sorted(_claimed_paths(load(dialect_id), mount)):
            other = claimed.get((method, path))
            if other is not None:
                raise ConfigError(f"TESSERA_API_MOUNTS: {method} {path} is claimed by both "
                                  f"{other} and {dialect_id}; mount one elsewhere or off")
            if path in app_paths:
                raise ConfigError(f"TESSERA_API_MOUNTS: {path} of {dialect_id} collides "
                                  "with one of Tessera's own pages")
            claimed[(method, path)] = dialect_id


def register(app: Flask) -> None:
    """Mount every dialect where configuration says, and claim its paths at the edge so
    its errors (404s and 405s under the mount included) answer in its envelope."""
    mounts = parse_mounts(app.config["API_MOUNTS"])
    app_paths = {rule.rule for rule in app.url_map.iter_rules()}
    check_conflicts(mounts, app_paths)
    active = {}
    for dialect_id, mount in mounts.items():
        if mount is None:
            continue
        dialect = load(dialect_id)
        app.register_blueprint(dialect.blueprint(app, mount))
        claim(app, Surface(f"api.{dialect_id}", render=dialect.render,
                           render_core=dialect.render_core, owns=_owner(dialect, mount),
                           private=True))
        active[dialect_id] = mount
    app.extensions["tessera.api_mounts"] = active


def _owner(dialect, mount: str):
    """Which paths a mounted dialect owns. A dialect mounted at / (cosmicsync) owns only
    the first segments its routes use, and yields to any longer claim."""
    if mount == "/":
        heads = {"/" + route.rule.strip("/").split("/")[0] for route in dialect.routes}

        def owns(path: str) -> int | None:
            return 0 if any(path == head or path.startswith(head + "/")
                            for head in heads) else None
    else:
        def owns(path: str) -> int | None:
            return len(mount) if path == mount or path.startswith(mount + "/") else None
    return owns
