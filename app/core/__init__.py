"""Domain services: plain functions over the models. They never read flask.request."""
