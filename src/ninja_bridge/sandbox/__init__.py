"""The sandbox: an in-memory emulator of the Invoice Ninja v5 REST API.

Used by `ninja-bridge demo` and by the proxy's end-to-end tests as a realistic upstream:

    from ninja_bridge.sandbox import create_app, SANDBOX_TOKEN, SandboxStore
    app = create_app(token=SANDBOX_TOKEN, hash_salt="", seed=True)   # an aiohttp Application
    store: SandboxStore = app["store"]
"""

from ninja_bridge.sandbox.account import SANDBOX_TOKEN
from ninja_bridge.sandbox.app import create_app
from ninja_bridge.sandbox.store import SandboxStore

__all__ = ["SANDBOX_TOKEN", "SandboxStore", "create_app"]
