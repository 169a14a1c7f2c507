"""AWS CDK app for flowwright: data, node functions, one state machine per app, operations."""
