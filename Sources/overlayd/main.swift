print("overlayd")
