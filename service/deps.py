"""Dependencies handed to routes: the settings and the live index, both created by the app factory."""

from __future__ import annotations

from fastapi import Request
from fastapi.templating import Jinja2Templates

from .live import CachedSearch, LiveIndex
from .settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_live(request: Request) -> LiveIndex:
    return request.app.state.live


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def get_search(request: Request) -> CachedSearch:
    return request.app.state.search
