"""The CRM domain: customers, applications, approvals, loans; and the hook contracts."""
