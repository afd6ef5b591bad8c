fn main() {
    // Adds `-z nodelete` on Linux so unloading the addon cannot unmap live code.
    napi_build::setup();
}
