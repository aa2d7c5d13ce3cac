"""Client health scoring service: the shared package of the Lambda layer."""

from healthscore.pydantic_plugins import skip_plugin_discovery

skip_plugin_discovery()  # before any model is built: see healthscore/pydantic_plugins.py
