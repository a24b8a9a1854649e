"""A local Microsoft identity platform (v2.0) and Microsoft Graph (online meetings) simulator; see README.md."""
