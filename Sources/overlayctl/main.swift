print("overlayctl")
