"""Turning the Flask request into the small ClientInfo core takes."""

from flask import request

from app.core.context import ClientInfo


def client_info() -> ClientInfo:
    return ClientInfo(ip_address=request.remote_addr,
                      user_agent=request.headers.get("User-Agent"))
