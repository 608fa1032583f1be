"""Vehicle photos: safe download (fetch), storage (stores: Wagtail images or Cloudinary), galleries."""
