"""A keyring backend for CLI subprocess tests: a JSON file named by MJ_TUI_TEST_KEYRING.

Selected with PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring; never used by the app itself.
"""

import json
import os

import keyring.backend
import keyring.errors


class FileKeyring(keyring.backend.KeyringBackend):
    priority = -100  # never auto-selected

    def _load(self):
        try:
            with open(os.environ["MJ_TUI_TEST_KEYRING"], encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return {}

    def _save(self, data):
        with open(os.environ["MJ_TUI_TEST_KEYRING"], "w", encoding="utf-8") as fh:
            json.dump(data, fh)

    def get_password(self, service, username):
        return self._load().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service, username):
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._save(data)
