// decom front-end behaviour (no inline scripts; CSP forbids them).
