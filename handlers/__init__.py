"""The Slack surface: the listeners (`handlers.listeners`, registered by `register_listeners`), the
dependencies they get through Bolt's context (`handlers.context`), and the Block Kit they send, built by
pure functions (`handlers.blocks`).

Importing a module of this package loads only what that module needs: this file imports nothing.
"""
