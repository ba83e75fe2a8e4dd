"""Hosted pages and the request edge (cookies, headers, the one transaction per request)."""
