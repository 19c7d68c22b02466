"""Drivers for real Vulkan implementations used by the conformance suite."""
